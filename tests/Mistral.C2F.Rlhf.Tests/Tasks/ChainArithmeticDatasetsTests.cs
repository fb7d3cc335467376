using Mistral.C2F.Rlhf.RewardModel.Data;
using System.Text.Json;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>The pipeline's datasets: right answers, honest preference pairs, held-out sets that are held out, short examples.</summary>
[Trait("Backend", "cpu")]
[Collection(BuiltInTokenizerCollection.Name)]
public sealed class ChainArithmeticDatasetsTests(BuiltInTokenizerFixture fixture)
{
    /// <summary>What a tiny model's sequences allow, BOS and EOS included.</summary>
    private const int MaxTokens = 60;

    private static readonly ChainArithmeticDataOptions Options = new()
    {
        PretrainingCount = 1000, SftCount = 300, PreferenceCount = 400, PpoPromptCount = 200, EvaluationCount = 150, HeldOutTextCount = 100,
    };

    private static readonly ChainArithmeticDatasets Data = ChainArithmeticDatasets.Build(Options);

    [Fact]
    public void Every_dataset_has_its_size_and_the_same_options_give_the_same_data()
    {
        Assert.Equal(
            [Options.PretrainingCount, Options.SftCount, Options.PreferenceCount, Options.PpoPromptCount, Options.EvaluationCount, Options.HeldOutTextCount],
            [Data.Pretraining.Count, Data.InstructionSft.Count, Data.Preferences.Count, Data.PpoPrompts.Count, Data.Evaluation.Count, Data.HeldOutText.Count]);
        var again = ChainArithmeticDatasets.Build(Options);
        Assert.Equal(Data.Pretraining, again.Pretraining);
        Assert.Equal(Data.InstructionSft, again.InstructionSft);
        Assert.Equal(Data.Preferences, again.Preferences);
        Assert.Equal(Data.Evaluation, again.Evaluation);
        Assert.Equal(Data.HeldOutText, again.HeldOutText);
        var reseeded = ChainArithmeticDatasets.Build(Options with { EvaluationSeed = Options.EvaluationSeed + 1 });
        Assert.Equal(Data.InstructionSft, reseeded.InstructionSft);
        Assert.NotEqual(Data.Evaluation, reseeded.Evaluation);
    }

    [Fact]
    public void Sft_and_reference_answers_are_the_concise_correct_answers()
    {
        Assert.All(Data.InstructionSft.Concat(Data.PpoPrompts).Concat(Data.Evaluation), example =>
            Assert.Equal(ChainArithmeticText.Solve(example.Prompt).ToString(), example.Response));
    }

    [Fact]
    public void Pretraining_text_mixes_step_by_step_concise_and_built_in_tasks_two_one_one()
    {
        var kinds = Data.Pretraining.Select(example => Kind(example.Text)).ToArray();

        Assert.Equal(Options.PretrainingCount / 2, kinds.Count(kind => kind == "steps"));
        Assert.Equal(Options.PretrainingCount / 4, kinds.Count(kind => kind == "concise"));
        Assert.Equal(Options.PretrainingCount / 4, kinds.Count(kind => kind == "built-in"));
        Assert.Equal(Options.HeldOutTextCount / 2, Data.HeldOutText.Count(example => Kind(example.Text) == "steps"));
        Assert.Equal(Options.HeldOutTextCount / 2, Data.HeldOutText.Count(example => Kind(example.Text) == "concise"));
    }

    [Fact]
    public void Preference_pairs_choose_the_correct_answer_and_reject_a_wrong_one_in_every_style_combination()
    {
        Assert.All(Data.Preferences, pair =>
        {
            int answer = ChainArithmeticText.Solve(pair.Prompt);
            Assert.True(AnswerChecker.IsCorrect(pair.Chosen, answer), pair.ToString());
            Assert.False(AnswerChecker.IsCorrect(pair.Rejected, answer), pair.ToString());
            if (IsStepByStep(pair.Chosen)) ChainArithmeticText.AssertWorkedCorrectly(pair.Prompt, pair.Chosen);
        });
        // A quarter each of (concise, concise), (steps, concise), (concise, steps), (steps, steps): length tells nothing.
        var combinations = Data.Preferences.GroupBy(pair => (IsStepByStep(pair.Chosen), IsStepByStep(pair.Rejected)));
        Assert.Equal(4, combinations.Count());
        Assert.All(combinations, combination => Assert.Equal(Options.PreferenceCount / 4, combination.Count()));
        Assert.InRange(Data.Preferences.Count(pair => pair.Chosen.Length > pair.Rejected.Length), Options.PreferenceCount / 5, Options.PreferenceCount * 2 / 5);
    }

    [Fact]
    public void Training_datasets_use_different_problems_and_held_out_prompts_overlap_none()
    {
        var pretraining = Data.Pretraining.Select(example => Prompt(example.Text)).OfType<string>().ToHashSet();
        var training = new[]
        {
            pretraining, Data.InstructionSft.Select(e => e.Prompt).ToHashSet(), Data.Preferences.Select(p => p.Prompt).ToHashSet(),
            Data.PpoPrompts.Select(e => e.Prompt).ToHashSet(),
        };
        var heldOut = new[] { Data.Evaluation.Select(e => e.Prompt).ToHashSet(), Data.HeldOutText.Select(e => Prompt(e.Text)!).ToHashSet() };

        var all = training.Concat(heldOut).ToArray();
        Assert.Equal(all.Sum(set => set.Count), all.SelectMany(set => set).Distinct().Count());
        Assert.Equal(Options.EvaluationCount, heldOut[0].Count);
    }

    [Fact]
    public void Every_example_is_ascii_within_the_token_bound_and_fully_covered_by_the_built_in_tokenizer()
    {
        var tokenizer = new SftExampleTokenizer(fixture.Tokenizer);
        var examples = Data.Pretraining.Cast<SftExample>()
            .Concat(Data.InstructionSft).Concat(Data.PpoPrompts).Concat(Data.Evaluation).Concat(Data.HeldOutText)
            .Concat(Data.Preferences.SelectMany(pair => new[] { new PromptResponseExample(pair.Prompt, pair.Chosen), new PromptResponseExample(pair.Prompt, pair.Rejected) }))
            .ToArray();

        var lengths = examples.Select(example => tokenizer.Tokenize(example).Ids).ToArray();

        Assert.All(examples, example => Assert.True(SftJsonLine.Format(example).All(char.IsAscii), example.ToString()));
        Assert.All(lengths, ids => Assert.InRange(ids.Length, 4, MaxTokens));
        Assert.DoesNotContain(SpecialTokens.UnknownId, lengths.SelectMany(ids => ids));
        // The longest problem (four operations on two-digit values) written step by step is the worst case, and fits.
        var longest = new ChainArithmeticProblem(20, [new(ChainOperator.Add, 9), new(ChainOperator.Add, 9), new(ChainOperator.Add, 9), new(ChainOperator.Add, 9)]);
        Assert.InRange(tokenizer.Tokenize(ChainArithmeticDatasets.Text(longest, stepByStep: true)).Ids.Length, 50, MaxTokens);
    }

    [Fact]
    public void Written_files_are_jsonl_in_the_sft_and_preference_formats()
    {
        using var directory = new TemporaryDirectory();

        Data.Write(directory.Path);

        Assert.Equal(
            new[]
            {
                ChainArithmeticDatasets.EvaluationFileName, ChainArithmeticDatasets.HeldOutTextFileName, ChainArithmeticDatasets.PpoPromptsFileName,
                ChainArithmeticDatasets.PreferencesFileName, ChainArithmeticDatasets.PretrainingFileName, ChainArithmeticDatasets.InstructionSftFileName,
            }.Order(StringComparer.Ordinal),
            directory.FileNames());
        Assert.Equal(Data.Pretraining, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.PretrainingFileName)));
        Assert.Equal(Data.InstructionSft, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.InstructionSftFileName)));
        Assert.Equal(Data.PpoPrompts, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.PpoPromptsFileName)));
        Assert.Equal(Data.Evaluation, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.EvaluationFileName)));
        Assert.Equal(Data.HeldOutText, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.HeldOutTextFileName)));

        var lines = File.ReadAllLines(directory.File(ChainArithmeticDatasets.PreferencesFileName));
        Assert.Matches("""^\{"prompt":"What is [0-9+-]+\?","chosen":"[^"]+","rejected":"[^"]+"\}$""", lines[0]);
        var pairs = lines.Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal(["prompt", "chosen", "rejected"], json.RootElement.EnumerateObject().Select(property => property.Name));
            return new PreferencePair(
                json.RootElement.GetProperty("prompt").GetString()!, json.RootElement.GetProperty("chosen").GetString()!,
                json.RootElement.GetProperty("rejected").GetString()!);
        });
        Assert.Equal(Data.Preferences, pairs);
    }

    private static bool IsStepByStep(string response) => response.Contains(WorkedSolution.AnswerPhrase, StringComparison.Ordinal);

    /// <summary>The chain-arithmetic prompt a text starts with, or null for a built-in task's text.</summary>
    private static string? Prompt(string text) => text.StartsWith("What is ", StringComparison.Ordinal) && text.Contains('?')
        ? text[..(text.IndexOf('?') + 1)]
        : null;

    private static string Kind(string text) => Prompt(text) is null ? "built-in" : IsStepByStep(text) ? "steps" : "concise";
}
