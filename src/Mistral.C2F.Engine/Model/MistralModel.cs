using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// A Mistral decoder (RMSNorm, RoPE, grouped-query attention with sliding window, SwiGLU) written once
/// against the op contract, so the same code runs on every backend, the float64 reference included.
/// </summary>
public sealed class MistralModel : IDisposable
{
    private readonly LayerWeights[] _layers;
    private readonly Tensor _embedding, _finalNorm, _lmHead;
    private readonly Workspace _workspace;

    public MistralModel(MistralConfig config, Backend backend, IReadOnlyDictionary<string, Tensor> parameters)
    {
        foreach (var (name, shape) in MistralParameterNames.For(config))
        {
            if (!parameters.TryGetValue(name, out var tensor))
                throw new ArgumentException($"parameter {name} is missing");
            if (!tensor.Shape.Equals(shape))
                throw new ArgumentException($"parameter {name} has shape {tensor.Shape}, config.json implies {shape}");
            if (!ReferenceEquals(tensor.Backend, backend))
                throw new ArgumentException($"parameter {name} lives on backend '{tensor.Backend.Name}', not '{backend.Name}'");
        }
        Config = config;
        Backend = backend;
        Parameters = parameters;
        _layers = Enumerable.Range(0, config.NumHiddenLayers).Select(layer => LayerWeights.From(parameters, layer)).ToArray();
        _embedding = parameters[MistralParameterNames.Embedding];
        _finalNorm = parameters[MistralParameterNames.FinalNorm];
        _lmHead = config.TieWordEmbeddings ? _embedding : parameters[MistralParameterNames.LmHead];
        _workspace = new Workspace(backend);
        Attention = new AttentionSpec(config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, config.SlidingWindow);
    }

    public MistralConfig Config { get; }
    public Backend Backend { get; }
    public IReadOnlyDictionary<string, Tensor> Parameters { get; }
    public AttentionSpec Attention { get; }

    /// <summary>
    /// Runs the decoder over tokens [B, S] at positions [B, S] and returns logits [rows, vocab] for the
    /// flat token indices in <paramref name="logitRows"/> (every token when null). Without a context the
    /// tokens attend to each other (a full forward pass); with a KV cache they also see earlier chunks.
    /// The returned tensor is a workspace buffer, valid until the next call.
    /// </summary>
    public Tensor Forward(Tensor tokens, Tensor positions, IKeyValueContext? context = null, Tensor? logitRows = null)
    {
        if (tokens.Shape.Rank != 2 || !tokens.Shape.Equals(positions.Shape))
            throw new ArgumentException($"tokens {tokens.Shape} and positions {positions.Shape} must both be [batch, length]");
        int batch = tokens.Shape[0], length = tokens.Shape[1], n = batch * length;
        int hidden = Config.HiddenSize, qDim = Config.NumAttentionHeads * Config.HeadDim, kvDim = Config.NumKeyValueHeads * Config.HeadDim;
        float eps = (float)Config.RmsNormEps;
        var (ws, ops) = (_workspace, Backend);
        context ??= new SelfContext(positions, batch, length);
        var flatPositions = positions.Reshape(n);

        var x = ws.Rows("residual", n, hidden);
        ops.GatherRows(_embedding, tokens.Reshape(n), x);
        var normed = ws.Rows("normed", n, hidden);
        var projected = ws.Rows("projected", n, hidden);
        for (int layer = 0; layer < _layers.Length; layer++)
        {
            var w = _layers[layer];
            ops.RmsNorm(x, w.InputNorm, eps, normed);
            var q = ws.Rows("q", n, qDim);
            var k = ws.Rows("k", n, kvDim);
            var v = ws.Rows("v", n, kvDim);
            ops.MatMul(normed, w.Query, q, transposeB: true);
            ops.MatMul(normed, w.Key, k, transposeB: true);
            ops.MatMul(normed, w.Value, v, transposeB: true);
            ops.Rope(q, flatPositions, Config.HeadDim, Config.RopeTheta);
            ops.Rope(k, flatPositions, Config.HeadDim, Config.RopeTheta);

            var (keys, values, keyPositions) = context.Attend(layer, k, v);
            var attention = ws.Rows("attention", n, qDim);
            ops.Attention(q.Reshape(batch, length, qDim), keys, values, positions, keyPositions, Attention,
                attention.Reshape(batch, length, qDim));
            ops.MatMul(attention, w.Output, projected, transposeB: true);
            ops.Add(x, projected, x);

            ops.RmsNorm(x, w.PostAttentionNorm, eps, normed);
            var gate = ws.Rows("gate", n, Config.IntermediateSize);
            var up = ws.Rows("up", n, Config.IntermediateSize);
            var activation = ws.Rows("activation", n, Config.IntermediateSize);
            ops.MatMul(normed, w.Gate, gate, transposeB: true);
            ops.MatMul(normed, w.Up, up, transposeB: true);
            ops.SwiGlu(gate, up, activation);
            ops.MatMul(activation, w.Down, projected, transposeB: true);
            ops.Add(x, projected, x);
        }
        ops.RmsNorm(x, _finalNorm, eps, normed);

        var selected = normed;
        if (logitRows is not null)
        {
            selected = ws.Rows("selected", (int)logitRows.ElementCount, hidden);
            ops.GatherRows(normed, logitRows, selected);
        }
        var logits = ws.Rows("logits", selected.Shape[0], Config.VocabSize);
        ops.MatMul(selected, _lmHead, logits, transposeB: true);
        return logits;
    }

    /// <summary>Fails with a clear message when a token id is outside the vocabulary.</summary>
    public void ValidateTokens(ReadOnlySpan<int> tokens, string source)
    {
        foreach (var token in tokens)
            if (token < 0 || token >= Config.VocabSize)
                throw new ArgumentException($"{source}: token id {token} is outside the vocabulary (0..{Config.VocabSize - 1})");
    }

    public void Dispose()
    {
        _workspace.Dispose();
        foreach (var tensor in Parameters.Values) tensor.Dispose();
    }
}
