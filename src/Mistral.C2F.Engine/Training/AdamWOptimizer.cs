using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// AdamW over named parameters with float32 (the backend's float type) moments: one fused multi-tensor op per
/// step (one launch where the backend has the kernel); the gradient scale folds in clipping. Moments are named
/// <c>exp_avg/&lt;name&gt;</c> and <c>exp_avg_sq/&lt;name&gt;</c>, as PyTorch's state dict calls them, for checkpointing.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly Backend _backend;
    private readonly Dictionary<string, (Tensor First, Tensor Second)> _moments;
    private readonly AdamWParameter[] _updates;

    public AdamWOptimizer(Backend backend, IReadOnlyDictionary<string, Tensor> parameters, IReadOnlyDictionary<string, Tensor> gradients, AdamWOptions options)
    {
        (_backend, Options) = (backend, options);
        _moments = parameters.ToDictionary(p => p.Key, p => (Zeros(p.Value.Shape), Zeros(p.Value.Shape)));
        _updates = parameters.Select(p => new AdamWParameter(p.Value, gradients[p.Key], _moments[p.Key].First, _moments[p.Key].Second,
            options.Decays(p.Key))).ToArray();
    }

    public AdamWOptions Options { get; }

    /// <summary>Updates taken so far; the next update uses Step + 1 for bias correction.</summary>
    public int Step { get; private set; }

    public void Update(double learningRate, double gradientScale)
    {
        Step++;
        _backend.AdamW(_updates, new AdamWStep((float)learningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay,
            Step, (float)gradientScale));
    }

    /// <summary>The optimizer state as named tensors (for a checkpoint).</summary>
    public IEnumerable<(string Name, Tensor Tensor)> State() =>
        _moments.SelectMany(m => new[] { ($"exp_avg/{m.Key}", m.Value.First), ($"exp_avg_sq/{m.Key}", m.Value.Second) });

    /// <summary>Restores moments (by the names of <see cref="State"/>) and the step count.</summary>
    public void Restore(Func<string, float[]> readState, int step)
    {
        foreach (var (name, tensor) in State()) _backend.Upload(readState(name), tensor);
        Step = step;
    }

    private Tensor Zeros(Shape shape)
    {
        var t = _backend.Allocate(shape, _backend.FloatType);
        _backend.Zero(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var (first, second) in _moments.Values)
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
