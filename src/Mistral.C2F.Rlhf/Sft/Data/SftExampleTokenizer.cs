using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Turns an <see cref="SftExample"/> into ids and a loss mask. Every example is BOS … EOS; BOS is never a loss token
/// (nothing before it predicts it) and EOS always is, so the model learns where an answer ends.
/// </summary>
/// <remarks>
/// A prompt and its response are encoded separately and their ids concatenated, not the joined string re-tokenized:
/// SentencePiece gives each part its dummy-prefix "▁", so the pair decodes as "prompt response" (one space between),
/// no piece ever straddles the prompt/response boundary, and the loss starts exactly at the response. This is how
/// <see cref="ChatTemplate"/> encodes an answer after "[/INST]", i.e. Mistral's reference tokenization.
/// </remarks>
public sealed class SftExampleTokenizer(MistralTokenizer tokenizer)
{
    private readonly ChatTemplate _template = new(tokenizer);

    public TokenizedExample Tokenize(SftExample example) => example switch
    {
        TextExample text => Concatenate(([tokenizer.BosId], false), (Encode(text.Text), true), ([tokenizer.EosId], true)),
        PromptResponseExample pair => Concatenate(
            ([tokenizer.BosId], false), (Encode(pair.Prompt), false), (Encode(pair.Response), true), ([tokenizer.EosId], true)),
        ConversationExample conversation => FromChat(_template.RenderWithMask(conversation.Messages)),
        _ => throw new ArgumentOutOfRangeException(nameof(example), example?.GetType().Name, "not an SFT example format"),
    };

    private int[] Encode(string text) => tokenizer.Encode(text, addBos: false);

    private static TokenizedExample FromChat(RenderedChat chat) => new(chat.Ids, chat.AssistantMask);

    private static TokenizedExample Concatenate(params ReadOnlySpan<(int[] Ids, bool Loss)> parts)
    {
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var (partIds, loss) in parts)
        {
            ids.AddRange(partIds);
            mask.AddRange(Enumerable.Repeat(loss, partIds.Length));
        }
        return new TokenizedExample([.. ids], [.. mask]);
    }
}
