namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// A conversation as token ids plus, per id, whether it belongs to an assistant turn (its content and closing EOS):
/// the positions a supervised fine-tuning loss is taken on.
/// </summary>
public sealed record RenderedChat(int[] Ids, bool[] AssistantMask);
