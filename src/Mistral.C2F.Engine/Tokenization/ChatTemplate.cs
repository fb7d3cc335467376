using System.Text;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The Mistral-Instruct (v0.1/v0.2) chat format: <c>&lt;s&gt;[INST] {user} [/INST] {assistant}&lt;/s&gt;[INST] {user} [/INST]</c>.
/// BOS once at the start, EOS after each assistant turn, an optional leading system message joined to the first user
/// message by "\n\n", then strictly alternating user/assistant turns. BOS and EOS are always the special ids; the
/// literal text "&lt;s&gt;" inside a message is tokenized as ordinary characters.
/// </summary>
/// <remarks>
/// Each instruction and each answer is encoded separately, so each gets SentencePiece's dummy-prefix "▁" (the space
/// before an answer, and a space before "[INST]" after an EOS): the ids of Mistral's reference tokenizer and of
/// Hugging Face's slow LlamaTokenizer in legacy mode. A vocabulary that holds [INST] and [/INST] as control pieces
/// (Mistral's tokenizer v2/v3, e.g. Mistral-7B-Instruct-v0.3) gets its v2/v3 format instead, as mistral-common
/// encodes it: BOS, then per user turn the [INST] id, the encoded message, the [/INST] id, per answer the encoded
/// answer and EOS; the system message is joined to the last user message.
/// </remarks>
public sealed class ChatTemplate(MistralTokenizer tokenizer)
{
    /// <summary>The Jinja template for tokenizer_config.json, producing the text of <see cref="RenderText"/>.</summary>
    public const string HuggingFaceTemplate =
        "{%- if messages[0]['role'] == 'system' %}{%- set system_message = messages[0]['content'] %}{%- set loop_messages = messages[1:] %}" +
        "{%- else %}{%- set loop_messages = messages %}{%- endif %}{{- bos_token }}{%- for message in loop_messages %}" +
        "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}{%- endif %}" +
        "{%- if message['role'] == 'user' %}{%- if loop.first and system_message is defined %}" +
        "{{- '[INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}" +
        "{%- else %}{{- '[INST] ' + message['content'] + ' [/INST]' }}{%- endif %}" +
        "{%- elif message['role'] == 'assistant' %}{{- ' ' + message['content'] + eos_token }}" +
        "{%- else %}{{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}" +
        "{%- endif %}{%- endfor %}";

    public int[] Render(IReadOnlyList<ChatMessage> messages) => RenderWithMask(messages).Ids;

    public RenderedChat RenderWithMask(IReadOnlyList<ChatMessage> messages)
    {
        var ids = new List<int> { tokenizer.BosId };
        var mask = new List<bool> { false };
        var (begin, end) = (tokenizer.ControlId("[INST]"), tokenizer.ControlId("[/INST]"));
        bool controlTags = begin is not null && end is not null;
        foreach (var turn in Turns(messages, systemOnLastUser: controlTags))
        {
            if (turn.IsAssistant)
            {
                ids.AddRange(tokenizer.Encode(turn.Content, addBos: false));
                ids.Add(tokenizer.EosId);
            }
            else if (controlTags)
            {
                ids.Add(begin!.Value);
                ids.AddRange(tokenizer.Encode(turn.Content, addBos: false));
                ids.Add(end!.Value);
            }
            else ids.AddRange(tokenizer.Encode(Instruction(turn.Content), addBos: false));
            mask.AddRange(Enumerable.Repeat(turn.IsAssistant, ids.Count - mask.Count));
        }
        return new RenderedChat([.. ids], [.. mask]);
    }

    private static string Instruction(string content) => $"[INST] {content} [/INST]";

    /// <summary>The conversation as text, exactly what <see cref="HuggingFaceTemplate"/> renders.</summary>
    public static string RenderText(IReadOnlyList<ChatMessage> messages)
    {
        var text = new StringBuilder(SpecialTokens.BeginOfSequence);
        foreach (var turn in Turns(messages, systemOnLastUser: false))
            text.Append(turn.IsAssistant ? $" {turn.Content}{SpecialTokens.EndOfSequence}" : Instruction(turn.Content));
        return text.ToString();
    }

    /// <summary>Checks the roles and yields each turn's content, the system message joined to the first or last user message.</summary>
    private static List<(bool IsAssistant, string Content)> Turns(IReadOnlyList<ChatMessage> messages, bool systemOnLastUser)
    {
        ArgumentNullException.ThrowIfNull(messages);
        string? system = null;
        int first = 0;
        if (messages.Count > 0 && messages[0].Role == ChatRole.System)
        {
            system = messages[0].Content ?? throw new ArgumentException("The system message has no content.", nameof(messages));
            first = 1;
        }
        if (messages.Count == first)
            throw new ArgumentException("A conversation needs at least one user message after the optional system message.", nameof(messages));

        var turns = new List<(bool, string)>();
        for (int i = first; i < messages.Count; i++)
        {
            var message = messages[i] ?? throw new ArgumentException($"Message {i} is null.", nameof(messages));
            var expected = (i - first) % 2 == 0 ? ChatRole.User : ChatRole.Assistant;
            if (message.Role != expected)
                throw new ArgumentException(
                    $"Message {i} is {message.Role}, expected {expected}: after the optional system message (only at index 0), " +
                    "roles must alternate user/assistant starting with user.", nameof(messages));
            if (message.Content is null) throw new ArgumentException($"Message {i} has no content.", nameof(messages));
            turns.Add((expected == ChatRole.Assistant, message.Content));
        }
        if (system is not null)
        {
            int user = systemOnLastUser ? turns.FindLastIndex(t => !t.Item1) : 0;
            turns[user] = (false, system + "\n\n" + turns[user].Item2);
        }
        return turns;
    }
}
