using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// What an optimizer step read back: the loss summed into <see cref="AdamWOptimizer.LossSum"/>, the global gradient norm,
/// whether it updated, and the sums its ops left in <see cref="AdamWOptimizer.StepStatistics"/>.
/// </summary>
public readonly record struct StepOutcome(double LossSum, double GradientNorm, bool Updated)
{
    public IReadOnlyList<double> Statistics { get; init; } = [];
}

/// <summary>One tensor of the optimizer state for a checkpoint: its name, its parameter's shape, and its values when read.</summary>
public readonly record struct OptimizerStateTensor(string Name, Shape Shape, Func<float[]> Read);

/// <summary>
/// AdamW over named parameters with float32 (the backend's float type) moments, the step shaped for a device: the
/// loss accumulates in <see cref="LossSum"/> where the loss ops run, the global gradient norm is taken there too, one
/// fused multi-tensor update (one launch where the backend has the kernel) is guarded and clipped by both on the
/// device, the gradients are zeroed, and the host waits once, to read the loss and the norm. In a data-parallel job the
/// gradients and the loss are first summed over the ranks (each rank's loss is already divided by the whole batch's
/// token count, so the sum is the whole batch's gradient), and every rank takes the same step. With
/// <see cref="AdamWOptions.ShardOverRanks"/> (ZeRO-1, <see cref="Zero1Partition"/>) each rank keeps the moments of its
/// range of the parameters only: the gradients are reduce-scattered, the norm is summed from the ranges, each rank
/// updates its range, and the weights are all-gathered. Moments are named <c>exp_avg/&lt;name&gt;</c> and
/// <c>exp_avg_sq/&lt;name&gt;</c>, as PyTorch's state dict calls them, for checkpointing; a checkpoint holds them whole
/// either way, so a run may resume sharded or not, on any number of ranks.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    private readonly Backend _backend;
    private readonly ICommunicator _communicator;
    private readonly IReadOnlyDictionary<string, Tensor> _parameters;
    private readonly ShardPiece[] _pieces;
    private readonly (Tensor First, Tensor Second)[] _moments;
    private readonly AdamWParameter[] _updates;
    private readonly Tensor[] _gradients;
    /// <summary>The gradients this rank's update reads: all of them, or its ZeRO-1 range's.</summary>
    private readonly Tensor[] _updateGradients;
    private readonly Tensor _statistics, _gradientNorm;
    private readonly GradientAllReduce? _allReduce;
    private readonly Zero1Partition? _partition;
    private OptimizerStateTensor[]? _gathered;

    /// <param name="communicator">The job's ranks; null or one rank: no reduction.</param>
    /// <param name="stepStatistics">Elements of <see cref="StepStatistics"/>.</param>
    public AdamWOptimizer(Backend backend, IReadOnlyDictionary<string, Tensor> parameters, IReadOnlyDictionary<string, Tensor> gradients, AdamWOptions options,
        ICommunicator? communicator = null, int stepStatistics = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stepStatistics);
        (_backend, Options, _parameters) = (backend, options, parameters);
        _communicator = communicator ?? SingleProcess.Instance;
        _gradients = parameters.Keys.Select(name => gradients[name]).ToArray();
        if (options.ShardOverRanks && _communicator.Size > 1)
        {
            _partition = new Zero1Partition(backend, _communicator, parameters.Select(p => (p.Key, p.Value, gradients[p.Key])).ToList());
            _pieces = [.. _partition.Pieces];
        }
        else
        {
            long offset = 0;
            _pieces = parameters.Select(p =>
            {
                var whole = new ShardPiece(p.Key, p.Value, gradients[p.Key], 0, checked((int)p.Value.ElementCount), offset);
                offset += p.Value.ElementCount;
                return whole;
            }).ToArray();
        }
        _moments = _pieces.Select(p => (Zeros(p.Parameter.Shape), Zeros(p.Parameter.Shape))).ToArray();
        _updates = _pieces.Select((p, i) => new AdamWParameter(p.Parameter, p.Gradient, _moments[i].First, _moments[i].Second, options.Decays(p.Name))).ToArray();
        _updateGradients = _updates.Select(u => u.Gradient).ToArray();
        _statistics = Zeros(new Shape(2 + stepStatistics));
        LossSum = _statistics.SliceRows(0, 1);
        _gradientNorm = _statistics.SliceRows(1, 1);
        StepStatistics = _statistics.SliceRows(2, stepStatistics);
        if (_partition is null && GradientAllReduce.Needed(backend, _communicator))
            _allReduce = new GradientAllReduce(backend, _communicator, [.. _gradients, LossSum, .. stepStatistics > 0 ? [StepStatistics] : Array.Empty<Tensor>()]);
    }

    public AdamWOptions Options { get; }

    /// <summary>Updates taken so far; the next update uses Step + 1 for bias correction.</summary>
    public int Step { get; private set; }

    /// <summary>Where this step's loss ops add the summed loss (one element); read and zeroed by <see cref="Apply"/>.</summary>
    public Tensor LossSum { get; }

    /// <summary>
    /// Sums a step's ops accumulate beside the loss (a reward model's accuracy and score moments, say), summed over the
    /// ranks and read by <see cref="Apply"/> in its one wait (<see cref="StepOutcome.Statistics"/>), then zeroed.
    /// </summary>
    public Tensor StepStatistics { get; }

    /// <summary>Parameter elements whose moments this rank keeps: all of them, or its ZeRO-1 range.</summary>
    public long StateElements => _pieces.Sum(p => (long)p.Length);

    /// <summary>Elements of every parameter the optimizer updates, over all ranks.</summary>
    public long ParameterElements => _parameters.Values.Sum(p => p.ElementCount);

    /// <summary>
    /// Ends a step: the global gradient norm; an AdamW update clipped to <paramref name="maxGradNorm"/> (0 = no clipping)
    /// when the norm, <see cref="LossSum"/> and <paramref name="lossIsFinite"/> (for a loss the caller computed) allow
    /// it; the gradients zeroed either way; then the one wait of the step, reading the loss and the norm.
    /// </summary>
    public StepOutcome Apply(double learningRate, double maxGradNorm, bool lossIsFinite = true)
    {
        _gathered = null;
        if (!lossIsFinite) _backend.Fill(LossSum, double.NaN);
        if (_partition is null)
        {
            _allReduce?.Run();
            _backend.GlobalNorm(_gradients, _gradientNorm);
        }
        else
        {
            SumShardedStatistics();
        }
        _backend.AdamW(_updates, new AdamWStep((float)learningRate, Options.Beta1, Options.Beta2, Options.Epsilon, Options.WeightDecay, Step + 1),
            new AdamWGuard(LossSum, _gradientNorm, (float)maxGradNorm));
        foreach (var gradient in _gradients) _backend.Zero(gradient);
        var values = _backend.ToDoubles(_statistics);
        _backend.Zero(_statistics);  // the loss and the step statistics accumulate from zero; the norm is rewritten
        bool updated = AdamWGuard.Allows(values[0], values[1]);
        if (updated)
        {
            _partition?.AllGatherParameters();
            Step++;
        }
        return new StepOutcome(values[0], values[1], updated) { Statistics = values[2..] };
    }

    /// <summary>
    /// The loss and the step statistics without a step (a model measured but not trained, as PPO's actor while it is
    /// frozen), summed over the ranks, then zeroed: one wait. The outcome has no gradient norm and no update.
    /// </summary>
    public StepOutcome ReadStatistics()
    {
        var values = _backend.ToDoubles(_statistics);
        values[1] = 0;
        _communicator.AllReduceSum(values);
        _backend.Zero(_statistics);
        return new StepOutcome(values[0], 0, Updated: false) { Statistics = values[2..] };
    }

    /// <summary>ZeRO-1: the gradients reduce-scattered; the loss, the squared norms of the ranges and the step statistics summed over the ranks.</summary>
    private void SumShardedStatistics()
    {
        _partition!.ReduceScatterGradients();
        if (_updates.Length > 0) _backend.GlobalNorm(_updateGradients, _gradientNorm);
        else _backend.Zero(_gradientNorm);
        var sums = _backend.ToDoubles(_statistics);
        sums[1] *= sums[1];
        _communicator.AllReduceSum(sums);
        sums[1] = Math.Sqrt(sums[1]);
        _backend.Upload(sums, _statistics);
    }

    /// <summary>
    /// Makes the whole state readable by <see cref="State"/> on rank 0. With ZeRO-1 every rank must call it, as it
    /// gathers the ranges (between the same two steps); otherwise it does nothing.
    /// </summary>
    public void GatherState()
    {
        if (_partition is null) return;
        var layout = _partition.Layout().ToArray();
        var gathered = new List<OptimizerStateTensor>();
        foreach (var (prefix, second) in new[] { ("exp_avg", false), ("exp_avg_sq", true) })
        {
            var own = _moments.SelectMany(m => _backend.ToFloats(second ? m.Second : m.First)).ToArray();
            var whole = _partition.Gather(own);
            if (!_communicator.IsRoot) continue;
            foreach (var (name, offset, count) in layout)
            {
                var values = whole.AsSpan((int)offset, (int)count).ToArray();
                gathered.Add(new OptimizerStateTensor($"{prefix}/{name}", _parameters[name].Shape, () => values));
            }
        }
        _gathered = _communicator.IsRoot ? [.. gathered] : null;
    }

    /// <summary>The optimizer state as named tensors (for a checkpoint); with ZeRO-1 after <see cref="GatherState"/>, on rank 0.</summary>
    public IReadOnlyList<OptimizerStateTensor> State()
    {
        if (_partition is not null)
            return _gathered ?? throw new InvalidOperationException("ZeRO-1 keeps each rank's range of the optimizer state: GatherState on every rank first");
        return _pieces.Zip(_moments).SelectMany(p => new[]
        {
            new OptimizerStateTensor($"exp_avg/{p.First.Name}", p.First.Parameter.Shape, () => _backend.ToFloats(p.Second.First)),
            new OptimizerStateTensor($"exp_avg_sq/{p.First.Name}", p.First.Parameter.Shape, () => _backend.ToFloats(p.Second.Second)),
        }).ToArray();
    }

    /// <summary>Restores moments (by the names of <see cref="State"/>, each whole) and the step count; a rank takes its range of each.</summary>
    public void Restore(Func<string, float[]> readState, int step)
    {
        foreach (var (piece, (first, second)) in _pieces.Zip(_moments))
        {
            Upload($"exp_avg/{piece.Name}", first);
            Upload($"exp_avg_sq/{piece.Name}", second);

            void Upload(string name, Tensor moment)
            {
                var whole = readState(name);
                long expected = _parameters[piece.Name].ElementCount;
                if (whole.Length != expected) throw new InvalidDataException($"optimizer state {name} has {whole.Length} values; its parameter has {expected}");
                _backend.Upload(whole.AsSpan(piece.Start, piece.Length), moment);
            }
        }
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
        foreach (var (first, second) in _moments)
        {
            first.Dispose();
            second.Dispose();
        }
    }
}
