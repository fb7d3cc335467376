using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// A Mistral decoder (RMSNorm, RoPE, grouped-query attention with sliding window, SwiGLU) written once
/// against the op contract, so the same code runs on every backend, the float64 reference included.
/// </summary>
public sealed class MistralModel : IDisposable
{
    private readonly Workspace _workspace;
    private Dictionary<string, Variable> _variables;
    private Dictionary<string, Tensor>? _gradients;

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
        _variables = parameters.ToDictionary(p => p.Key, p => Variable.Parameter(p.Key, p.Value, gradient: null));
        _workspace = new Workspace(backend);
        Attention = new AttentionSpec(config.NumAttentionHeads, config.NumKeyValueHeads, config.HeadDim, config.SlidingWindow);
    }

    public MistralConfig Config { get; }
    public Backend Backend { get; }
    public IReadOnlyDictionary<string, Tensor> Parameters { get; }
    public AttentionSpec Attention { get; }

    /// <summary>
    /// Runs the decoder over tokens [B, S] at positions [B, S] and returns logits [rows, vocab] (a sequence
    /// classifier: scores [rows, 1]) for the
    /// flat token indices in <paramref name="logitRows"/> (every token when null). Without a context the
    /// tokens attend to each other (a full forward pass); with a KV cache they also see earlier chunks.
    /// <paramref name="layout"/> states what the caller knows of the positions (without a cache, see <see cref="AttentionLayout"/>).
    /// The returned tensor is a workspace buffer, valid until the next call.
    /// </summary>
    public Tensor Forward(Tensor tokens, Tensor positions, IKeyValueContext? context = null, Tensor? logitRows = null,
        AttentionLayout layout = AttentionLayout.Explicit) =>
        Run(Ops(tape: null), tokens, positions, context, logitRows, layout).Value;

    /// <summary>
    /// The same forward pass recorded on <paramref name="tape"/> for training: every activation the backward
    /// needs is kept, and parameters with gradients (see <see cref="AttachGradients"/>) receive them.
    /// </summary>
    public Variable Forward(Tape tape, Tensor tokens, Tensor positions, Tensor? logitRows = null, AttentionLayout layout = AttentionLayout.Explicit)
    {
        if (!ReferenceEquals(tape.Backend, Backend)) throw new ArgumentException($"the tape runs on '{tape.Backend.Name}', the model on '{Backend.Name}'");
        return Run(Ops(tape), tokens, positions, context: null, logitRows, layout);
    }

    /// <summary>
    /// Gives every parameter a zeroed gradient tensor of its shape, named like the parameter; gradients
    /// accumulate over backward passes until the caller zeroes them (after an optimizer step).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> AttachGradients()
    {
        if (_gradients is null)
        {
            _gradients = Parameters.ToDictionary(p => p.Key, p =>
            {
                var gradient = Backend.Allocate(p.Value.Shape, Backend.FloatType);
                Backend.Zero(gradient);
                return gradient;
            });
            _variables = Parameters.ToDictionary(p => p.Key, p => Variable.Parameter(p.Key, p.Value, _gradients[p.Key]));
        }
        return _gradients;
    }

    public IReadOnlyDictionary<string, Tensor>? Gradients => _gradients;

    /// <summary>The op contract over variables in this model's activation workspace, recording on <paramref name="tape"/> if given.</summary>
    public TapedOps Ops(Tape? tape) => new(Backend, _workspace, tape);

    private Variable Run(TapedOps ops, Tensor tokens, Tensor positions, IKeyValueContext? context, Tensor? logitRows, AttentionLayout layout)
    {
        if (tokens.Shape.Rank != 2 || !tokens.Shape.Equals(positions.Shape))
            throw new ArgumentException($"tokens {tokens.Shape} and positions {positions.Shape} must both be [batch, length]");
        int batch = tokens.Shape[0], length = tokens.Shape[1], n = batch * length;
        float eps = (float)Config.RmsNormEps;
        if (ops.IsRecording && context is not null)
            throw new InvalidOperationException("a recorded (training) forward pass attends to its own keys, not to a KV cache");
        if (context is not null && layout != AttentionLayout.Explicit)
            throw new ArgumentException($"a chunk attends to the KV cache's positions: its layout is {AttentionLayout.Explicit}, not {layout}");
        var flatPositions = positions.Reshape(n);
        Variable P(string name) => _variables[name];

        // Each residual add is fused with the norm that reads its sum: the attention's with the MLP's norm, the MLP's
        // with the next layer's input norm (the final norm after the last layer).
        (Variable Weight, string Name) NormBefore(int layer) => layer < Config.NumHiddenLayers
            ? (P(MistralParameterNames.Layer(layer, MistralParameterNames.InputNorm)), "attention_norm")
            : (P(MistralParameterNames.FinalNorm), "final_norm");

        // Without a KV cache, q, k and v are read by the attention alone (a cache also copies k and v): stated at v's
        // projection and at q's and k's RoPE (stated at their projection, a narrower store would round them twice).
        (AttentionSpec, AttentionLayout)? readByAttention = context is null ? (Attention, layout) : null;
        var x = ops.GatherRows(P(MistralParameterNames.Embedding), tokens.Reshape(n), "embedded");
        var firstNorm = NormBefore(0);
        var normed = ops.RmsNorm(x, firstNorm.Weight, eps, firstNorm.Name, 0);
        for (int layer = 0; layer < Config.NumHiddenLayers; layer++)
        {
            string L(string suffix) => MistralParameterNames.Layer(layer, suffix);
            var q = ops.Linear(normed, P(L(MistralParameterNames.QueryProjection)), "q", layer);
            var k = ops.Linear(normed, P(L(MistralParameterNames.KeyProjection)), "k", layer);
            var v = ops.Linear(normed, P(L(MistralParameterNames.ValueProjection)), "v", layer, readByAttention);
            ops.Rope(q, flatPositions, Config.HeadDim, Config.RopeTheta, readByAttention);
            ops.Rope(k, flatPositions, Config.HeadDim, Config.RopeTheta, readByAttention);
            var (keys, values, keyPositions) = context is null ? (k, v, positions) : Cached(context, layer, k, v);
            var attention = ops.Attention(q, keys, values, positions, keyPositions, Attention, layout, "attention", layer);
            var attentionOut = ops.Linear(attention, P(L(MistralParameterNames.OutputProjection)), "attention_out", layer);
            (x, normed) = ops.AddRmsNorm(x, attentionOut, P(L(MistralParameterNames.PostAttentionNorm)), eps, "residual_attention", "mlp_norm", layer);

            var gate = ops.Linear(normed, P(L(MistralParameterNames.GateProjection)), "gate", layer);
            var up = ops.Linear(normed, P(L(MistralParameterNames.UpProjection)), "up", layer);
            var activation = ops.SwiGlu(gate, up, "swiglu", layer);
            var mlpOut = ops.Linear(activation, P(L(MistralParameterNames.DownProjection)), "mlp_out", layer);
            var nextNorm = NormBefore(layer + 1);
            (x, normed) = ops.AddRmsNorm(x, mlpOut, nextNorm.Weight, eps, "residual_mlp", nextNorm.Name, layer + 1);
        }
        var final = normed;
        if (logitRows is not null) final = ops.GatherRows(final, logitRows, "selected");
        var head = Config.IsSequenceClassifier ? P(MistralParameterNames.ScoreHead)
            : Config.TieWordEmbeddings ? P(MistralParameterNames.Embedding) : P(MistralParameterNames.LmHead);
        return ops.Linear(final, head, "logits", Config.NumHiddenLayers);
    }

    private static (Variable Keys, Variable Values, Tensor Positions) Cached(IKeyValueContext context, int layer, Variable k, Variable v)
    {
        var (keys, values, positions) = context.Attend(layer, k.Value, v.Value);
        return (Variable.Constant("cached keys", keys), Variable.Constant("cached values", values), positions);
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
        foreach (var tensor in Parameters.Values.Concat((IEnumerable<Tensor>?)_gradients?.Values ?? [])) tensor.Dispose();
    }
}
