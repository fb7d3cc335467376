using Mistral.C2F.Engine.Tests.Support;
using System.Text;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Sft.Data;

/// <summary>Every kind of bad input fails with the file, the line number and the problem.</summary>
[Trait("Backend", "cpu")]
public sealed class SftJsonlErrorTests : IDisposable
{
    private const string FileName = "broken.jsonl";
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string Path => _directory.File(FileName);

    /// <summary>Writes the lines and reads them, expecting a failure at <paramref name="line"/> that matches <paramref name="problem"/>.</summary>
    private void AssertFailsAt(int line, string problem, params string[] lines)
    {
        File.WriteAllText(Path, string.Join("\n", lines) + "\n");
        var error = Assert.Throws<InvalidDataException>(() => SftJsonlReader.Read(Path));
        Assert.StartsWith($"{Path}, line {line}: ", error.Message);
        Assert.Matches(problem, error.Message);
    }

    [Theory]
    [InlineData("""{"text": "unterminated""", "malformed JSON at byte 23: Expected end of string, but instead reached end of data\\.$")]
    [InlineData("""{"text": "a"} trailing""", "malformed JSON")]
    [InlineData("""{"text": "a", "text": "b"}""", "malformed JSON.*[Dd]uplicate")]
    [InlineData("""["text", "a"]""", "expected a JSON object, found an array")]
    [InlineData("\"just a string\"", "expected a JSON object, found a string")]
    [InlineData("""{"txt": "a"}""", "unknown format: expected \"text\", \"prompt\" with \"response\", or \"messages\"")]
    [InlineData("{}", "unknown format")]
    [InlineData("""{"text": "a", "prompt": "b", "response": "c"}""", "mixes formats \\(keys \"text\", \"prompt\", \"response\"\\)")]
    [InlineData("""{"text": "a", "messages": []}""", "mixes formats")]
    [InlineData("""{"prompt": "a"}""", "missing \"response\"")]
    [InlineData("""{"response": "a"}""", "missing \"prompt\"")]
    [InlineData("""{"text": 5}""", "\"text\" must be a string, found a number")]
    [InlineData("""{"prompt": "a", "response": null}""", "\"response\" must be a string, found null")]
    [InlineData("""{"prompt": ["a"], "response": "b"}""", "\"prompt\" must be a string, found an array")]
    [InlineData("""{"text": ""}""", "\"text\" is empty")]
    [InlineData("""{"prompt": "a", "response": " \t "}""", "\"response\" is empty")]
    [InlineData("""{"messages": "hi"}""", "\"messages\" must be an array, found a string")]
    [InlineData("""{"messages": ["hi"]}""", "\"messages\\[0\\]\" must be an object, found a string")]
    [InlineData("""{"messages": [{"content": "hi"}]}""", "missing \"messages\\[0\\].role\"")]
    [InlineData("""{"messages": [{"role": true, "content": "hi"}]}""", "\"messages\\[0\\].role\" must be a string, found a boolean")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}]}""",
        "\"messages\\[1\\].role\" is \"tool\": expected one of \"system\", \"user\", \"assistant\"")]
    [InlineData("""{"messages": [{"role": "user"}]}""", "missing \"messages\\[0\\].content\"")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}""", "\"messages\\[1\\].content\" is empty")]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]}""", "bad conversation: .*alternate")]
    [InlineData("""{"messages": [{"role": "assistant", "content": "a"}]}""", "bad conversation: .*alternate")]
    [InlineData("""{"messages": [{"role": "system", "content": "a"}]}""", "bad conversation: .*at least one user message")]
    [InlineData("""{"messages": []}""", "bad conversation: .*at least one user message")]
    [InlineData("""{"messages": [{"role": "user", "content": "a"}]}""", "has no assistant message")]
    public void A_bad_line_names_the_file_its_line_and_the_problem(string badLine, string problem) =>
        AssertFailsAt(4, problem, """{"text": "fine"}""", "", """{"text": "also fine"}""", badLine, """{"text": "never read"}""");

    [Fact]
    public void A_line_in_another_format_than_the_first_example_is_rejected() =>
        AssertFailsAt(3, "the \"prompt\"/\"response\" format, but line 2 is in the \"text\" format; a file holds one format",
            "", """{"text": "a"}""", """{"prompt": "b", "response": "c"}""");

    [Fact]
    public void A_line_that_is_not_utf8_is_rejected_with_its_number()
    {
        var latin1 = Encoding.Latin1.GetBytes("{\"text\": \"caf\u00e9\"}\n");
        File.WriteAllBytes(Path, [.. "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n"u8, .. latin1]);

        var error = Assert.Throws<InvalidDataException>(() => SftJsonlReader.Read(Path));

        Assert.Equal($"{Path}, line 3: invalid UTF-8 (or a U+FFFD replacement character)", error.Message);
    }

    [Fact]
    public void A_file_without_examples_is_rejected()
    {
        File.WriteAllText(Path, "\n  \n\n");

        var error = Assert.Throws<InvalidDataException>(() => SftJsonlReader.Read(Path));

        Assert.Equal($"SFT data file '{Path}' holds no examples.", error.Message);
    }

    [Fact]
    public void A_missing_file_names_its_path()
    {
        var missing = _directory.File("absent.jsonl");

        var error = Assert.Throws<FileNotFoundException>(() => SftJsonlReader.Read(missing));

        Assert.Equal(missing, error.FileName);
        Assert.Contains(missing, error.Message);
    }
}
