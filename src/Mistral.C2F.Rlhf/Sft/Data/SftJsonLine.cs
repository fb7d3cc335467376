using System.Text.Json;
using System.Text.Json.Nodes;
using Mistral.C2F.Rlhf.Data;
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
        return json.ToJsonString(JsonFields.WriteOptions);
    }

    public static SftExample Parse(string line)
    {
        using var document = JsonFields.ParseObject(line);
        var root = document.RootElement;

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

        if (text) return new TextExample(JsonFields.RequiredContent(root, TextKey, TextKey));
        if (promptResponse) return new PromptResponseExample(JsonFields.RequiredContent(root, PromptKey, PromptKey), JsonFields.RequiredContent(root, ResponseKey, ResponseKey));
        return new ConversationExample(Conversation(root.GetProperty(MessagesKey)));
    }

    private static ChatMessage[] Conversation(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array)
            throw new FormatException($"\"{MessagesKey}\" must be an array, found {JsonFields.Describe(messages.ValueKind)}");
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
            throw new FormatException($"\"{where}\" must be an object, found {JsonFields.Describe(message.ValueKind)}");
        var roleName = JsonFields.RequiredString(message, RoleKey, $"{where}.{RoleKey}");
        var role = RoleNames.Where(entry => entry.Name == roleName).Select(entry => (ChatRole?)entry.Role).SingleOrDefault()
                   ?? throw new FormatException(
                       $"\"{where}.{RoleKey}\" is \"{roleName}\": expected one of {string.Join(", ", RoleNames.Select(entry => $"\"{entry.Name}\""))}");
        return new ChatMessage(role, JsonFields.RequiredContent(message, ContentKey, $"{where}.{ContentKey}"));
    }
}
