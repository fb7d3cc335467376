using System.Text.Encodings.Web;
using System.Text.Json;

namespace Mistral.C2F.Rlhf.Data;

/// <summary>Reading one JSON object per JSONL line: parse errors and field checks as <see cref="FormatException"/>s that name the field.</summary>
internal static class JsonFields
{
    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false };

    // Relaxed escaping keeps "+", "<" and "'" readable for people who open or edit the files; quotes and control
    // characters are still escaped.
    public static JsonSerializerOptions WriteOptions { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Parses a line that must hold a JSON object; duplicate keys are an error.</summary>
    public static JsonDocument ParseObject(string line)
    {
        var document = Parse(line);
        if (document.RootElement.ValueKind == JsonValueKind.Object) return document;
        var kind = document.RootElement.ValueKind;
        document.Dispose();
        throw new FormatException($"expected a JSON object, found {Describe(kind)}");
    }

    private static JsonDocument Parse(string line)
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

    /// <summary>A string that must hold some text: an empty or blank one would train on nothing but its EOS.</summary>
    public static string RequiredContent(JsonElement parent, string key, string where)
    {
        var value = RequiredString(parent, key, where);
        if (string.IsNullOrWhiteSpace(value)) throw new FormatException($"\"{where}\" is empty");
        return value;
    }

    public static string RequiredString(JsonElement parent, string key, string where)
    {
        if (!parent.TryGetProperty(key, out var value)) throw new FormatException($"missing \"{where}\"");
        if (value.ValueKind != JsonValueKind.String)
            throw new FormatException($"\"{where}\" must be a string, found {Describe(value.ValueKind)}");
        return value.GetString()!;
    }

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>An optional number; absent or null gives the default.</summary>
    public static double OptionalNumber(JsonElement parent, string key, double defaultValue)
    {
        if (!parent.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null) return defaultValue;
        if (value.ValueKind != JsonValueKind.Number || !double.IsFinite(value.GetDouble()))
            throw new FormatException($"\"{key}\" must be a finite number, found {Describe(value.ValueKind)}");
        return value.GetDouble();
    }
}
