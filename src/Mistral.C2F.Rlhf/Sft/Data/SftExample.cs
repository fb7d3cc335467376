using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// One supervised fine-tuning example in one of TRL's dataset formats; the format decides which tokens carry loss.
/// </summary>
public abstract record SftExample
{
    // Only the three formats below exist: tokenization and serialisation switch over them exhaustively.
    private protected SftExample()
    {
    }
}

/// <summary>TRL's language-modeling format, <c>{"text": …}</c>: loss on every token.</summary>
public sealed record TextExample(string Text) : SftExample;

/// <summary>TRL's prompt-completion format as <c>{"prompt": …, "response": …}</c>: loss on the response and its EOS only.</summary>
public sealed record PromptResponseExample(string Prompt, string Response) : SftExample;

/// <summary>TRL's conversational format, <c>{"messages": [{"role": …, "content": …}, …]}</c>: loss on assistant turns.</summary>
public sealed record ConversationExample(IReadOnlyList<ChatMessage> Messages) : SftExample;
