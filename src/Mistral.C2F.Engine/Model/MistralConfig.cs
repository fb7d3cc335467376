using Mistral.C2F.Engine.IO;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// The architecture of a Mistral model, as the <c>config.json</c> of Hugging Face's <c>MistralForCausalLM</c>
/// spells it. The keys that fix tensor shapes are required; settings this engine does not implement are refused and
/// keys it does not use are named in a warning (see <see cref="MistralConfigReader"/>).
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

    /// <summary>The most decoder layers a config may name: far beyond any real model, and a bound on what a typo can allocate.</summary>
    public const int MaxLayers = 4096;

    /// <summary>Reads config.json strictly (see <see cref="MistralConfigReader"/>): errors name the file and the key.</summary>
    public static MistralConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: config.json not found", path);
        ModelFiles.RequireRegularFile(path);
        return MistralConfigReader.Read(File.ReadAllText(path), path);
    }

    public void Validate(string source)
    {
        void Require(bool ok, string problem)
        {
            if (!ok) throw new InvalidDataException($"{source}: {problem}");
        }
        Require(VocabSize > 0 && HiddenSize > 0 && IntermediateSize > 0 && NumHiddenLayers > 0,
            $"vocab_size ({VocabSize}), hidden_size ({HiddenSize}), intermediate_size ({IntermediateSize}) and num_hidden_layers ({NumHiddenLayers}) must be positive");
        Require(NumHiddenLayers <= MaxLayers, $"num_hidden_layers {NumHiddenLayers} is more than this engine's limit of {MaxLayers}");
        Require(NumAttentionHeads > 0 && NumKeyValueHeads > 0, "head counts must be positive");
        Require(NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        Require(HeadDimOverride is not null || HiddenSize % NumAttentionHeads == 0,
            $"hidden_size ({HiddenSize}) is not divisible by num_attention_heads ({NumAttentionHeads})");
        Require(HeadDim > 0 && HeadDim % 2 == 0, $"head dim {HeadDim} must be positive and even for rotary embeddings");
        Require(SlidingWindow is null or > 0, $"sliding_window must be positive or null, got {SlidingWindow}");
        Require(MaxPositionEmbeddings > 0, $"max_position_embeddings must be positive, got {MaxPositionEmbeddings}");
        // Every parameter is one tensor, indexed by int: a size typo must fail here, not as an overflow or an allocation of gigabytes.
        foreach (var (name, rows, columns) in new (string, double, double)[]
        {
            ("model.embed_tokens.weight (vocab_size × hidden_size)", VocabSize, HiddenSize),
            ("q_proj (num_attention_heads × head_dim × hidden_size)", (double)NumAttentionHeads * HeadDim, HiddenSize),
            ("k_proj (num_key_value_heads × head_dim × hidden_size)", (double)NumKeyValueHeads * HeadDim, HiddenSize),
            ("gate_proj (intermediate_size × hidden_size)", IntermediateSize, HiddenSize),
        })
            Require(rows * columns <= int.MaxValue, $"{name} would hold {rows * columns:0} elements; a tensor holds at most {int.MaxValue}");
        Require(RmsNormEps >= 0 && RopeTheta > 0, "rms_norm_eps must be non-negative and rope_theta positive");
        Require(Architecture is CausalLm or SequenceClassification,
            $"architecture {Architecture} is not supported (use {CausalLm} or {SequenceClassification})");
        Require(BosTokenId is >= 0 && BosTokenId < VocabSize && EosTokenId >= 0 && EosTokenId < VocabSize,
            "bos_token_id and eos_token_id must be inside the vocabulary");
    }

    /// <summary>Fails when <paramref name="what"/> asks for more positions than the model was built for.</summary>
    public void RequirePositions(long length, string what)
    {
        if (length > MaxPositionEmbeddings)
            throw new ArgumentException($"{what} ({length}) is more than the model's max_position_embeddings ({MaxPositionEmbeddings})");
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
