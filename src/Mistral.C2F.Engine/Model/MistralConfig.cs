using Mistral.C2F.Engine.IO;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// The architecture of a Mistral model, as the <c>config.json</c> of Hugging Face's <c>MistralForCausalLM</c>
/// spells it. Unknown keys are ignored; the keys that fix tensor shapes are required.
/// </summary>
public sealed record MistralConfig
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    public int? HeadDimOverride { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>W keys including the query's own position; null means full causal attention.</summary>
    public int? SlidingWindow { get; init; } = 4096;
    public int MaxPositionEmbeddings { get; init; } = 32768;
    public bool TieWordEmbeddings { get; init; }
    public int BosTokenId { get; init; } = 1;
    public int EosTokenId { get; init; } = 2;
    public string TorchDtype { get; init; } = "bfloat16";

    /// <summary>
    /// <c>MistralForCausalLM</c> (a language-model head over the vocabulary) or <c>MistralForSequenceClassification</c>
    /// (one scalar per position from <c>score.weight</c>: reward models and critics).
    /// </summary>
    public string Architecture { get; init; } = CausalLm;

    public const string CausalLm = "MistralForCausalLM";
    public const string SequenceClassification = "MistralForSequenceClassification";

    public bool IsSequenceClassifier => Architecture == SequenceClassification;

    public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    private static readonly string[] RequiredKeys =
        ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads"];

    public static MistralConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found", path);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: malformed JSON: {e.Message}", e);
        }
        return FromJson(json, path);
    }

    public static MistralConfig FromJson(JsonObject json, string source)
    {
        var missing = RequiredKeys.Where(key => json[key] is null).ToArray();
        if (missing.Length > 0) throw new InvalidDataException($"{source}: missing required key(s) {string.Join(", ", missing)}");
        try
        {
            var config = new MistralConfig
            {
                VocabSize = json["vocab_size"]!.GetValue<int>(),
                HiddenSize = json["hidden_size"]!.GetValue<int>(),
                IntermediateSize = json["intermediate_size"]!.GetValue<int>(),
                NumHiddenLayers = json["num_hidden_layers"]!.GetValue<int>(),
                NumAttentionHeads = json["num_attention_heads"]!.GetValue<int>(),
                NumKeyValueHeads = json["num_key_value_heads"]!.GetValue<int>(),
                HeadDimOverride = json["head_dim"]?.GetValue<int>(),
                RmsNormEps = json["rms_norm_eps"]?.GetValue<double>() ?? 1e-6,
                RopeTheta = json["rope_theta"]?.GetValue<double>() ?? 10000.0,
                SlidingWindow = json.ContainsKey("sliding_window") ? json["sliding_window"]?.GetValue<int>() : 4096,
                MaxPositionEmbeddings = json["max_position_embeddings"]?.GetValue<int>() ?? 32768,
                TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? false,
                BosTokenId = json["bos_token_id"]?.GetValue<int>() ?? 1,
                EosTokenId = json["eos_token_id"]?.GetValue<int>() ?? 2,
                TorchDtype = json["torch_dtype"]?.GetValue<string>() ?? "bfloat16",
                Architecture = (json["architectures"] as JsonArray)?.FirstOrDefault()?.GetValue<string>() ?? CausalLm,
            };
            config.Validate(source);
            return config;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: a key has the wrong type: {e.Message}", e);
        }
    }

    public void Validate(string source)
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new InvalidDataException($"{source}: {problem}");
        }
        Require(VocabSize > 0 && HiddenSize > 0 && IntermediateSize > 0 && NumHiddenLayers > 0, "sizes must be positive");
        Require(NumAttentionHeads > 0 && NumKeyValueHeads > 0, "head counts must be positive");
        Require(NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        Require(HeadDimOverride is not null || HiddenSize % NumAttentionHeads == 0,
            $"hidden_size ({HiddenSize}) is not divisible by num_attention_heads ({NumAttentionHeads})");
        Require(HeadDim > 0 && HeadDim % 2 == 0, $"head dim {HeadDim} must be positive and even for rotary embeddings");
        Require(SlidingWindow is null or > 0, $"sliding_window must be positive or null, got {SlidingWindow}");
        Require(RmsNormEps >= 0 && RopeTheta > 0, "rms_norm_eps must be non-negative and rope_theta positive");
        Require(Architecture is CausalLm or SequenceClassification,
            $"architecture {Architecture} is not supported (use {CausalLm} or {SequenceClassification})");
        Require(BosTokenId is >= 0 && BosTokenId < VocabSize && EosTokenId >= 0 && EosTokenId < VocabSize,
            "bos_token_id and eos_token_id must be inside the vocabulary");
    }

    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture),
            ["model_type"] = "mistral",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["sliding_window"] = SlidingWindow,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenId,
            ["torch_dtype"] = TorchDtype,
        };
        if (IsSequenceClassifier) json["num_labels"] = 1;
        return json;
    }

    public void Save(string path) =>
        AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}
