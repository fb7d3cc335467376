using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>The Hugging Face tensor names and shapes of a <c>MistralForCausalLM</c> checkpoint (docs/DEFINITIONS.md, "Checkpoint tensor names").</summary>
public static class MistralParameterNames
{
    public const string Embedding = "model.embed_tokens.weight";
    public const string FinalNorm = "model.norm.weight";
    public const string LmHead = "lm_head.weight";
    /// <summary>The scalar head of a sequence classifier (reward model, critic), [1, hidden].</summary>
    public const string ScoreHead = "score.weight";

    public static string Layer(int layer, string suffix) => $"model.layers.{layer}.{suffix}";

    public const string QueryProjection = "self_attn.q_proj.weight";
    public const string KeyProjection = "self_attn.k_proj.weight";
    public const string ValueProjection = "self_attn.v_proj.weight";
    public const string OutputProjection = "self_attn.o_proj.weight";
    public const string GateProjection = "mlp.gate_proj.weight";
    public const string UpProjection = "mlp.up_proj.weight";
    public const string DownProjection = "mlp.down_proj.weight";
    public const string InputNorm = "input_layernorm.weight";
    public const string PostAttentionNorm = "post_attention_layernorm.weight";

    /// <summary>
    /// Every parameter of the model in checkpoint order, with its shape. lm_head is absent when tied; a sequence
    /// classifier has score.weight instead.
    /// </summary>
    public static IReadOnlyList<(string Name, Shape Shape)> For(MistralConfig config)
    {
        int h = config.HiddenSize, qDim = config.NumAttentionHeads * config.HeadDim, kvDim = config.NumKeyValueHeads * config.HeadDim;
        var list = new List<(string, Shape)> { (Embedding, new Shape(config.VocabSize, h)) };
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            list.Add((Layer(layer, InputNorm), new Shape(h)));
            list.Add((Layer(layer, QueryProjection), new Shape(qDim, h)));
            list.Add((Layer(layer, KeyProjection), new Shape(kvDim, h)));
            list.Add((Layer(layer, ValueProjection), new Shape(kvDim, h)));
            list.Add((Layer(layer, OutputProjection), new Shape(h, qDim)));
            list.Add((Layer(layer, PostAttentionNorm), new Shape(h)));
            list.Add((Layer(layer, GateProjection), new Shape(config.IntermediateSize, h)));
            list.Add((Layer(layer, UpProjection), new Shape(config.IntermediateSize, h)));
            list.Add((Layer(layer, DownProjection), new Shape(h, config.IntermediateSize)));
        }
        list.Add((FinalNorm, new Shape(h)));
        if (config.IsSequenceClassifier) list.Add((ScoreHead, new Shape(1, h)));
        else if (!config.TieWordEmbeddings) list.Add((LmHead, new Shape(config.VocabSize, h)));
        return list;
    }
}
