namespace Mistral.C2F.Engine.Tokenization;

public enum ChatRole
{
    System,
    User,
    Assistant,
}

/// <summary>One turn of a conversation, as in Hugging Face's <c>messages</c> list.</summary>
public sealed record ChatMessage(ChatRole Role, string Content);
