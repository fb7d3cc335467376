using Mistral.C2F.Engine.Tests.Support;
using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Sft.Data;

/// <summary>The built-in SFT data: deterministic by seed, correct answers, short ASCII examples, JSONL that reads back.</summary>
[Trait("Backend", "cpu")]
[Collection(BuiltInTokenizerCollection.Name)]
public sealed partial class BuiltInSftDataTests(BuiltInTokenizerFixture fixture)
{
    private static readonly IReadOnlyList<PromptResponseExample> Examples = BuiltInSftData.Generate();

    [Fact]
    public void The_same_seed_gives_the_same_examples_and_another_seed_other_ones()
    {
        Assert.Equal(BuiltInSftData.DefaultCount, Examples.Count);
        Assert.Equal(Examples, BuiltInSftData.Generate());
        Assert.Equal(Examples.Take(100), BuiltInSftData.Generate(count: 100));
        var other = BuiltInSftData.Generate(seed: BuiltInSftData.DefaultSeed + 1);
        Assert.True(Examples.Zip(other).Count(pair => pair.First == pair.Second) < Examples.Count / 10);
    }

    [Fact]
    public void Every_answer_is_correct_and_every_task_has_an_equal_share()
    {
        var solved = Examples.Select(example => (Task: Solve(example.Prompt), example.Response)).ToArray();

        Assert.All(solved, pair => Assert.Equal(pair.Task.Answer, pair.Response));
        var shares = solved.GroupBy(pair => pair.Task.Name).ToDictionary(group => group.Key, group => group.Count());
        Assert.Equal(["add", "count", "larger", "reverse", "sort", "successor"], shares.Keys.Order());
        Assert.All(shares.Values, count => Assert.InRange(count, Examples.Count / 6, Examples.Count / 6 + 1));
    }

    [Fact]
    public void Examples_are_ascii_short_and_fully_covered_by_the_built_in_tokenizer()
    {
        var sft = new SftExampleTokenizer(fixture.Tokenizer);

        Assert.All(Examples, example => Assert.True(Ascii().IsMatch(example.Prompt + example.Response), example.ToString()));
        var tokenized = Examples.Select(sft.Tokenize).ToArray();
        Assert.All(tokenized, example => Assert.InRange(example.Ids.Length, 5, 40));
        Assert.DoesNotContain(SpecialTokens.UnknownId, tokenized.SelectMany(example => example.Ids));
        Assert.All(Examples.Zip(tokenized), pair =>
            Assert.Equal($"{pair.First.Prompt} {pair.First.Response}", fixture.Tokenizer.Decode(pair.Second.Ids)));
    }

    [Fact]
    public void The_written_file_is_prompt_response_jsonl_that_reads_back_unchanged()
    {
        using var directory = new TemporaryDirectory();
        var path = directory.File(BuiltInSftData.DefaultFileName);

        BuiltInSftData.Write(path, count: 50, seed: 9);

        var lines = File.ReadAllLines(path);
        Assert.Equal(50, lines.Length);
        Assert.Matches("""^\{"prompt":"Sort [0-9, ]+\.","response":"[0-9, ]+"\}$""", lines[0]);
        Assert.Equal(BuiltInSftData.Generate(50, 9), SftJsonlReader.Read(path));
    }

    /// <summary>Recognises a prompt and computes its answer independently of the generator.</summary>
    private static (string Name, string Answer) Solve(string prompt)
    {
        if (SortPrompt().Match(prompt) is { Success: true } sort)
            return ("sort", string.Join(", ", Numbers(sort.Groups[1].Value).Order()));
        if (AddPrompt().Match(prompt) is { Success: true } add)
            return ("add", (int.Parse(add.Groups[1].Value) + int.Parse(add.Groups[2].Value)).ToString());
        if (ReversePrompt().Match(prompt) is { Success: true } reverse)
            return ("reverse", string.Join(" ", reverse.Groups[1].Value.ToCharArray().Reverse()));
        if (CountPrompt().Match(prompt) is { Success: true } count)
        {
            int from = int.Parse(count.Groups[1].Value), to = int.Parse(count.Groups[2].Value);
            Assert.InRange(to - from, 2, 4);
            return ("count", string.Join(", ", Enumerable.Range(from, to - from + 1)));
        }
        if (LargerPrompt().Match(prompt) is { Success: true } larger)
        {
            int a = int.Parse(larger.Groups[1].Value), b = int.Parse(larger.Groups[2].Value);
            Assert.NotEqual(a, b);
            return ("larger", Math.Max(a, b).ToString());
        }
        if (SuccessorPrompt().Match(prompt) is { Success: true } successor)
            return ("successor", (int.Parse(successor.Groups[1].Value) + 1).ToString());
        throw new Xunit.Sdk.XunitException($"Unrecognised prompt: {prompt}");
    }

    private static IEnumerable<int> Numbers(string list) => list.Split(", ").Select(int.Parse);

    [GeneratedRegex(@"^Sort ((?:\d+, )+\d+)\.$")]
    private static partial Regex SortPrompt();

    [GeneratedRegex(@"^Add (\d+) and (\d+)\.$")]
    private static partial Regex AddPrompt();

    [GeneratedRegex(@"^Reverse the letters of ([a-z]+)\.$")]
    private static partial Regex ReversePrompt();

    [GeneratedRegex(@"^Count from (\d+) to (\d+)\.$")]
    private static partial Regex CountPrompt();

    [GeneratedRegex(@"^Which is larger, (\d+) or (\d+)\?$")]
    private static partial Regex LargerPrompt();

    [GeneratedRegex(@"^What comes after (\d+)\?$")]
    private static partial Regex SuccessorPrompt();

    [GeneratedRegex(@"^[ -~]*$")]
    private static partial Regex Ascii();
}
