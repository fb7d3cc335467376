using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Training;

/// <summary>What an optimizer step read back: the loss summed into <see cref="AdamWOptimizer.LossSum"/>, the global gradient norm, and whether it updated.</summary>
public readonly record struct StepOutcome(double LossSum, double GradientNorm, bool Updated);

/// <summary>
/// AdamW over named parameters with float32 (the backend's float type) moments, the step shaped for a device: the
/// loss accumulates in <see cref="LossSum"/> where the loss ops run, the global gradient norm is taken there too, one
/// fused multi-tensor update (one launch where the backend has the kernel) is guarded and clipped by both on the
/// device, the gradients are zeroed, and the host waits once, to read the loss and the norm. In a data-parallel job the
/// gradients and the loss are first summed over the ranks (each rank's loss is already divided by the whole batch's
/// token count, so the sum is the whole batch's gradient), and every rank takes the same step. Moments are named
/// <c>exp_avg/&lt;name&gt;</c> and <c>exp_avg_sq/&lt;name&gt;</c>, as PyTorch's state dict calls them, for checkpointing.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly Backend _backend;
    private readonly Dictionary<string, (Tensor First, Tensor Second)> _moments;
    private readonly AdamWParameter[] _updates;
    private readonly Tensor[] _gradients;
    private readonly Tensor _statistics, _gradientNorm;
    private readonly GradientAllReduce? _allReduce;

    /// <param name="communicator">The job's ranks; null or one rank: no reduction.</param>
    public AdamWOptimizer(Backend backend, IReadOnlyDictionary<string, Tensor> parameters, IReadOnlyDictionary<string, Tensor> gradients, AdamWOptions options,
        ICommunicator? communicator = null)
    {
        (_backend, Options) = (backend, options);
        _moments = parameters.ToDictionary(p => p.Key, p => (Zeros(p.Value.Shape), Zeros(p.Value.Shape)));
        _updates = parameters.Select(p => new AdamWParameter(p.Value, gradients[p.Key], _moments[p.Key].First, _moments[p.Key].Second,
            options.Decays(p.Key))).ToArray();
        _gradients = _updates.Select(u => u.Gradient).ToArray();
        _statistics = Zeros(new Shape(2));
        LossSum = _statistics.SliceRows(0, 1);
        _gradientNorm = _statistics.SliceRows(1, 1);
        if (communicator is { Size: > 1 }) _allReduce = new GradientAllReduce(backend, communicator, [.. _gradients, LossSum]);
    }

    public AdamWOptions Options { get; }

    /// <summary>Updates taken so far; the next update uses Step + 1 for bias correction.</summary>
    public int Step { get; private set; }

    /// <summary>Where this step's loss ops add the summed loss (one element); read and zeroed by <see cref="Apply"/>.</summary>
    public Tensor LossSum { get; }

    /// <summary>
    /// Ends a step: the global gradient norm; an AdamW update clipped to <paramref name="maxGradNorm"/> (0 = no clipping)
    /// when the norm, <see cref="LossSum"/> and <paramref name="lossIsFinite"/> (for a loss the caller computed) allow
    /// it; the gradients zeroed either way; then the one wait of the step, reading the loss and the norm.
    /// </summary>
    public StepOutcome Apply(double learningRate, double maxGradNorm, bool lossIsFinite = true)
    {
        if (!lossIsFinite) _backend.Fill(LossSum, double.NaN);
        _allReduce?.Run();
        _backend.GlobalNorm(_gradients, _gradientNorm);
        _backend.AdamW(_updates, new AdamWStep((float)learningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay, Step + 1),
            new AdamWGuard(LossSum, _gradientNorm, (float)maxGradNorm));
        foreach (var gradient in _gradients) _backend.Zero(gradient);
        var values = _backend.ToDoubles(_statistics);
        _backend.Zero(LossSum);
        bool updated = AdamWGuard.Allows(values[0], values[1]);
        if (updated) Step++;
        return new StepOutcome(values[0], values[1], updated);
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
        _statistics.Dispose();
        foreach (var (first, second) in _moments.Values)
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
