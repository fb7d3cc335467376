using System.Text.Json;
using Mistral.C2F.Engine.Diagnostics;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// Reads a Hugging Face <c>config.json</c> strictly: every key is read with its type checked and its name in the error, a
/// key given twice is an error, a setting that would change the model into one this engine does not run (another
/// activation, RoPE scaling, biases, another model type) is refused, and keys the engine does not use are named in a warning.
/// </summary>
internal sealed class MistralConfigReader
{
    /// <summary>Keys that describe the file or the runtime, not the architecture: read by nobody, and not worth a warning.</summary>
    private static readonly HashSet<string> Metadata =
    [
        "_name_or_path", "transformers_version", "use_cache", "initializer_range", "pad_token_id", "torch_dtype", "dtype",
        "output_attentions", "output_hidden_states", "return_dict", "num_labels", "id2label", "label2id", "problem_type",
    ];

    /// <summary>Keys that would change the model, with the one value this engine implements.</summary>
    private static readonly (string Key, string Implemented, Func<JsonElement, bool> IsImplemented)[] Fixed =
    [
        ("model_type", "\"mistral\"", v => v.ValueKind == JsonValueKind.String && v.GetString() == "mistral"),
        ("hidden_act", "\"silu\"", v => v.ValueKind == JsonValueKind.String && v.GetString() == "silu"),
        ("rope_scaling", "null", v => v.ValueKind == JsonValueKind.Null),
        ("attention_bias", "false", v => v.ValueKind == JsonValueKind.False),
        ("mlp_bias", "false", v => v.ValueKind == JsonValueKind.False),
    ];

    private readonly string _source;
    private readonly Dictionary<string, JsonElement> _keys = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private MistralConfigReader(JsonElement root, string source)
    {
        _source = source;
        if (root.ValueKind != JsonValueKind.Object) throw Problem($"expected a JSON object, found a JSON {root.ValueKind}");
        foreach (var property in root.EnumerateObject())
            if (!_keys.TryAdd(property.Name, property.Value)) throw Problem($"key '{property.Name}' appears twice");
    }

    public static MistralConfig Read(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: malformed JSON: {e.Message}", e);
        }
        using (document) return new MistralConfigReader(document.RootElement, source).Read();
    }

    private MistralConfig Read()
    {
        var missing = new[] { "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads" }
            .Where(key => !_keys.ContainsKey(key)).ToArray();
        if (missing.Length > 0) throw Problem($"missing required key(s) {string.Join(", ", missing)}");
        foreach (var (key, implemented, isImplemented) in Fixed)
        {
            if (!Take(key, out var value)) continue;
            if (!isImplemented(value))
                throw Problem($"'{key}' is {value.GetRawText()}; this engine implements only {implemented} (a Mistral decoder)");
        }
        var config = new MistralConfig
        {
            VocabSize = Int("vocab_size")!.Value,
            HiddenSize = Int("hidden_size")!.Value,
            IntermediateSize = Int("intermediate_size")!.Value,
            NumHiddenLayers = Int("num_hidden_layers")!.Value,
            NumAttentionHeads = Int("num_attention_heads")!.Value,
            NumKeyValueHeads = Int("num_key_value_heads")!.Value,
            HeadDimOverride = Int("head_dim"),
            RmsNormEps = Number("rms_norm_eps") ?? 1e-6,
            RopeTheta = Number("rope_theta") ?? 10000.0,
            SlidingWindow = _keys.ContainsKey("sliding_window") ? Int("sliding_window") : 4096,
            MaxPositionEmbeddings = Int("max_position_embeddings") ?? 32768,
            TieWordEmbeddings = Bool("tie_word_embeddings") ?? false,
            BosTokenId = Int("bos_token_id") ?? 1,
            EosTokenId = Int("eos_token_id") ?? 2,
            TorchDtype = String("torch_dtype") ?? "bfloat16",
            Architecture = Architecture() ?? MistralConfig.CausalLm,
        };
        if (Number("attention_dropout") is > 0 and var dropout)
            Warnings.Report($"{_source}: attention_dropout {dropout} is ignored: this engine trains without dropout");
        var ignored = _keys.Keys.Where(key => !_read.Contains(key) && !Metadata.Contains(key)).Order(StringComparer.Ordinal).ToArray();
        if (ignored.Length > 0)
            Warnings.Report($"{_source}: ignored key(s) {string.Join(", ", ignored)}: not part of the Mistral architecture this engine runs");
        config.Validate(_source);
        return config;
    }

    private bool Take(string key, out JsonElement value)
    {
        _read.Add(key);
        return _keys.TryGetValue(key, out value);
    }

    /// <summary>An integer key; null when absent or JSON null.</summary>
    private int? Int(string key)
    {
        if (!Take(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number) throw WrongType(key, value, "an integer");
        return value.TryGetInt32(out int result) ? result
            : throw Problem($"'{key}' is {value.GetRawText()}, not an integer in {int.MinValue}..{int.MaxValue}");
    }

    private double? Number(string key)
    {
        if (!Take(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.Number ? value.GetDouble() : throw WrongType(key, value, "a number");
    }

    private bool? Bool(string key)
    {
        if (!Take(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : throw WrongType(key, value, "true or false");
    }

    private string? String(string key)
    {
        if (!Take(key, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw WrongType(key, value, "a string");
    }

    /// <summary>The first entry of <c>architectures</c>; the engine runs one architecture per file.</summary>
    private string? Architecture()
    {
        if (!Take("architectures", out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != 1 || value[0].ValueKind != JsonValueKind.String)
            throw Problem($"'architectures' is {value.GetRawText()}, expected a list of one name such as [\"{MistralConfig.CausalLm}\"]");
        return value[0].GetString();
    }

    private InvalidDataException WrongType(string key, JsonElement value, string expected) =>
        Problem($"'{key}' has the wrong type: {value.GetRawText()} is a JSON {value.ValueKind}, expected {expected}");

    private InvalidDataException Problem(string problem) => new($"{_source}: {problem}");
}
