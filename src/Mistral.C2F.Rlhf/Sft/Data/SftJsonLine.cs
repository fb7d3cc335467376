using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// One line of SFT JSONL: a JSON object in exactly one of the formats of <see cref="SftExample"/>. Keys that belong to
/// no format (an "id", a "source") are ignored, as TRL ignores extra dataset columns. Parse problems are thrown as
/// <see cref="FormatException"/> naming the problem only; the reader adds the file and line.
/// </summary>
internal static class SftJsonLine
{
    private const string TextKey = "text";
    private const string PromptKey = "prompt";
    private const string ResponseKey = "response";
    private const string MessagesKey = "messages";
    private const string RoleKey = "role";
    private const string ContentKey = "content";

    private const string KnownFormats = "expected \"text\", \"prompt\" with \"response\", or \"messages\"";

    private static readonly (ChatRole Role, string Name)[] RoleNames =
        [(ChatRole.System, "system"), (ChatRole.User, "user"), (ChatRole.Assistant, "assistant")];

    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false };

    // Relaxed escaping keeps "+", "<" and "'" readable for people who open or edit the file; quotes and control
    // characters are still escaped. The project's other JSONL writers share it.
    internal static readonly JsonSerializerOptions FormatOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>How a format is named in messages: by its keys.</summary>
    public static string FormatName(SftExample example) => example switch
    {
        TextExample => "\"text\"",
        PromptResponseExample => "\"prompt\"/\"response\"",
        ConversationExample => "\"messages\"",
        _ => throw new ArgumentOutOfRangeException(nameof(example), example?.GetType().Name, "not an SFT example format"),
    };

    /// <summary>The example as one line of JSON (no line break) that <see cref="Parse"/> reads back.</summary>
    public static string Format(SftExample example)
    {
        var json = example switch
        {
            TextExample text => new JsonObject { [TextKey] = text.Text },
            PromptResponseExample pair => new JsonObject { [PromptKey] = pair.Prompt, [ResponseKey] = pair.Response },
            ConversationExample conversation => new JsonObject
            {
                [MessagesKey] = new JsonArray([.. conversation.Messages.Select(message => new JsonObject
                {
                    [RoleKey] = RoleNames.Single(entry => entry.Role == message.Role).Name,
                    [ContentKey] = message.Content,
                })]),
            },
            _ => throw new ArgumentOutOfRangeException(nameof(example), example?.GetType().Name, "not an SFT example format"),
        };
        return json.ToJsonString(FormatOptions);
    }

    public static SftExample Parse(string line)
    {
        using var document = ParseJson(line);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new FormatException($"expected a JSON object, found {Describe(root.ValueKind)}");

        bool text = root.TryGetProperty(TextKey, out _);
        bool promptResponse = root.TryGetProperty(PromptKey, out _) || root.TryGetProperty(ResponseKey, out _);
        bool messages = root.TryGetProperty(MessagesKey, out _);
        int formats = (text ? 1 : 0) + (promptResponse ? 1 : 0) + (messages ? 1 : 0);
        if (formats == 0) throw new FormatException($"unknown format: {KnownFormats}");
        if (formats > 1)
        {
            var keys = root.EnumerateObject().Select(p => $"\"{p.Name}\"");
            throw new FormatException($"mixes formats (keys {string.Join(", ", keys)}): {KnownFormats}");
        }

        if (text) return new TextExample(RequiredContent(root, TextKey, TextKey));
        if (promptResponse) return new PromptResponseExample(RequiredContent(root, PromptKey, PromptKey), RequiredContent(root, ResponseKey, ResponseKey));
        return new ConversationExample(Conversation(root.GetProperty(MessagesKey)));
    }

    private static JsonDocument ParseJson(string line)
    {
        try
        {
            return JsonDocument.Parse(line, ParseOptions);
        }
        catch (JsonException exception)
        {
            // The parser appends "LineNumber: 0 | BytePositionInLine: n", counted within this one line; next to the file's
            // line number that reads as a contradiction, so give the column alone.
            var problem = exception.Message.Split(" LineNumber:")[0];
            var column = exception.BytePositionInLine is { } position ? $" at byte {position + 1}" : "";
            throw new FormatException($"malformed JSON{column}: {problem}", exception);
        }
    }

    private static ChatMessage[] Conversation(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
            throw new FormatException($"\"{MessagesKey}\" must be an array, found {Describe(messages.ValueKind)}");
        var conversation = messages.EnumerateArray().Select((message, i) => Message(message, $"{MessagesKey}[{i}]")).ToArray();
        try
        {
            // The template's own role rules (optional system first, then user/assistant alternating), checked here so a
            // bad conversation fails with its line instead of later at tokenization.
            ChatTemplate.RenderText(conversation);
        }
        catch (ArgumentException exception)
        {
            throw new FormatException($"bad conversation: {exception.Message}", exception);
        }
        if (conversation.All(message => message.Role != ChatRole.Assistant))
            throw new FormatException($"\"{MessagesKey}\" has no assistant message: nothing to train on");
        return conversation;
    }

    private static ChatMessage Message(JsonElement message, string where)
    {
        if (message.ValueKind != JsonValueKind.Object)
            throw new FormatException($"\"{where}\" must be an object, found {Describe(message.ValueKind)}");
        var roleName = RequiredString(message, RoleKey, $"{where}.{RoleKey}");
        var role = RoleNames.Where(entry => entry.Name == roleName).Select(entry => (ChatRole?)entry.Role).SingleOrDefault()
                   ?? throw new FormatException(
                       $"\"{where}.{RoleKey}\" is \"{roleName}\": expected one of {string.Join(", ", RoleNames.Select(entry => $"\"{entry.Name}\""))}");
        return new ChatMessage(role, RequiredContent(message, ContentKey, $"{where}.{ContentKey}"));
    }

    /// <summary>A string that must hold some text: an empty or blank one would train on nothing but its EOS.</summary>
    private static string RequiredContent(JsonElement parent, string key, string where)
    {
        var value = RequiredString(parent, key, where);
        if (string.IsNullOrWhiteSpace(value)) throw new FormatException($"\"{where}\" is empty");
        return value;
    }

    private static string RequiredString(JsonElement parent, string key, string where)
    {
        if (!parent.TryGetProperty(key, out var value)) throw new FormatException($"missing \"{where}\"");
        if (value.ValueKind != JsonValueKind.String)
            throw new FormatException($"\"{where}\" must be a string, found {Describe(value.ValueKind)}");
        return value.GetString()!;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
