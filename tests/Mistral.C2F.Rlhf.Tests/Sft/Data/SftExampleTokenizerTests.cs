using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Sft.Data;

/// <summary>Exact ids and loss masks of each format with the built-in tokenizer.</summary>
[Trait("Backend", "cpu")]
[Collection(BuiltInTokenizerCollection.Name)]
public sealed class SftExampleTokenizerTests(BuiltInTokenizerFixture fixture)
{
    private readonly MistralTokenizer _tokenizer = fixture.Tokenizer;
    private readonly SftExampleTokenizer _sft = new(fixture.Tokenizer);

    private int[] Encode(string text) => _tokenizer.Encode(text, addBos: false);

    private static bool[] Repeat(bool loss, int count) => Enumerable.Repeat(loss, count).ToArray();

    [Fact]
    public void Text_is_bos_tokens_eos_with_loss_on_everything_but_bos()
    {
        var text = Encode("Sort 7, 3, 5.");

        var example = _sft.Tokenize(new TextExample("Sort 7, 3, 5."));

        Assert.Equal([1, .. text, 2], example.Ids);
        Assert.Equal([false, .. Repeat(true, text.Length), true], example.LossMask);
        // Digits are split, as by Mistral's tokenizer.
        Assert.Equal(["▁Sort", "▁", "7", ",", "▁", "3", ",", "▁", "5", "."], text.Select(_tokenizer.IdToPiece));
    }

    [Fact]
    public void Prompt_response_has_loss_on_the_response_and_its_eos_only()
    {
        var prompt = Encode("Reverse the letters of cat.");
        var response = Encode("t a c");

        var example = _sft.Tokenize(new PromptResponseExample("Reverse the letters of cat.", "t a c"));

        Assert.Equal([1, .. prompt, .. response, 2], example.Ids);
        Assert.Equal([false, .. Repeat(false, prompt.Length), .. Repeat(true, response.Length), true], example.LossMask);
        // Each part gets its own dummy prefix: the response starts with "▁" and the pair reads "prompt response".
        Assert.Equal(["▁t", "▁a", "▁c"], response.Select(_tokenizer.IdToPiece));
        Assert.Equal("Reverse the letters of cat. t a c", _tokenizer.Decode(example.Ids));
        Assert.Equal("t a c", _tokenizer.Decode(example.Ids.Where((_, i) => example.LossMask[i])));
    }

    [Fact]
    public void Messages_are_the_chat_template_with_loss_on_assistant_content_and_eos()
    {
        ChatMessage[] messages =
        [
            new(ChatRole.System, "Be brief."), new(ChatRole.User, "Add 1 and 2."), new(ChatRole.Assistant, "3"),
            new(ChatRole.User, "And 2 and 2?"), new(ChatRole.Assistant, "4"),
        ];
        var first = Encode("[INST] Be brief.\n\nAdd 1 and 2. [/INST]");
        var second = Encode("[INST] And 2 and 2? [/INST]");
        var (three, four) = (Encode("3"), Encode("4"));

        var example = _sft.Tokenize(new ConversationExample(messages));

        Assert.Equal([1, .. first, .. three, 2, .. second, .. four, 2], example.Ids);
        Assert.Equal(
            [false, .. Repeat(false, first.Length), .. Repeat(true, three.Length + 1), .. Repeat(false, second.Length), .. Repeat(true, four.Length + 1)],
            example.LossMask);
        Assert.Equal(new ChatTemplate(_tokenizer).Render(messages), example.Ids);
    }
}
