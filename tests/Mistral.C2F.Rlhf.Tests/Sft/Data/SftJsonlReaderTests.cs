using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Sft.Data;

/// <summary>The three JSONL formats read into examples; blank lines and unrelated keys are skipped; writing reads back.</summary>
[Trait("Backend", "cpu")]
public sealed class SftJsonlReaderTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private string WriteFile(params string[] lines)
    {
        var path = _directory.File("data.jsonl");
        File.WriteAllText(path, string.Join("\n", lines));
        return path;
    }

    [Fact]
    public void Text_lines_become_text_examples_and_blank_lines_are_skipped()
    {
        var path = WriteFile("{\"text\": \"Sort 7, 3, 5. 3, 5, 7\"}", "", "   ", "{\"text\": \"A \\\"quoted\\\" line\\nwith a break\", \"id\": 7}", "");

        Assert.Equal<SftExample>(
            [new TextExample("Sort 7, 3, 5. 3, 5, 7"), new TextExample("A \"quoted\" line\nwith a break")],
            SftJsonlReader.Read(path));
    }

    [Fact]
    public void Prompt_response_lines_become_prompt_response_examples()
    {
        var path = WriteFile("{\"prompt\": \"Add 12 and 7.\", \"response\": \"19\"}", "{\"response\": \"t a c\", \"prompt\": \"Reverse the letters of cat.\"}");

        Assert.Equal<SftExample>(
            [new PromptResponseExample("Add 12 and 7.", "19"), new PromptResponseExample("Reverse the letters of cat.", "t a c")],
            SftJsonlReader.Read(path));
    }

    [Fact]
    public void Messages_lines_become_conversations_with_their_roles()
    {
        var path = WriteFile(
            """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 1 and 2."}, {"role": "assistant", "content": "3"}]}""",
            """{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Bye"}]}""");

        var examples = SftJsonlReader.Read(path).Cast<ConversationExample>().ToArray();

        Assert.Equal(2, examples.Length);
        Assert.Equal([new(ChatRole.System, "Be brief."), new(ChatRole.User, "Add 1 and 2."), new ChatMessage(ChatRole.Assistant, "3")],
            examples[0].Messages);
        Assert.Equal([new(ChatRole.User, "Hi"), new(ChatRole.Assistant, "Hello"), new ChatMessage(ChatRole.User, "Bye")],
            examples[1].Messages);
    }

    private IReadOnlyList<SftExample> WriteAndReadBack(params SftExample[] examples)
    {
        var path = _directory.File("written.jsonl");
        SftJsonlWriter.Write(path, examples);
        return SftJsonlReader.Read(path);
    }

    [Fact]
    public void Written_text_and_prompt_response_examples_read_back_unchanged()
    {
        SftExample[] text = [new TextExample("\"quotes\", a\ttab, a\nbreak and \u00e9"), new TextExample("second")];
        SftExample[] pairs = [new PromptResponseExample("Add 1 and 2.", "3"), new PromptResponseExample("Sort 3, 1.", "1, 3")];

        Assert.Equal(text, WriteAndReadBack(text));
        Assert.Equal(pairs, WriteAndReadBack(pairs));
    }

    [Fact]
    public void Written_conversations_read_back_unchanged()
    {
        ChatMessage[] messages = [new(ChatRole.System, "s"), new(ChatRole.User, "u"), new(ChatRole.Assistant, "a"), new(ChatRole.User, "u2")];

        var read = Assert.IsType<ConversationExample>(Assert.Single(WriteAndReadBack(new ConversationExample(messages))));

        Assert.Equal(messages, read.Messages);
    }

    [Fact]
    public void Written_lines_are_compact_readable_json_and_the_write_leaves_no_temporary()
    {
        WriteAndReadBack(new PromptResponseExample("Is 1 + 2 < 4?", "yes"), new PromptResponseExample("Say 'hi'.", "hi"));

        Assert.Equal("{\"prompt\":\"Is 1 + 2 < 4?\",\"response\":\"yes\"}\n{\"prompt\":\"Say 'hi'.\",\"response\":\"hi\"}\n",
            File.ReadAllText(_directory.File("written.jsonl")));
        Assert.Equal(["written.jsonl"], Directory.EnumerateFiles(_directory.Path).Select(Path.GetFileName));
    }
}
