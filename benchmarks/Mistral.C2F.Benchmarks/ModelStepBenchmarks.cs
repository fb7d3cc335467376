using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// Whole model steps on a preset at batch 4 × 256 on 2 threads: our forward pass and training step (forward,
/// backward, gradient norm, AdamW), beside a peer measured in the same run: the forward pass's projections alone
/// (every q/k/v/o/gate/up/down and lm_head GEMM at its shape) through OpenBLAS's cblas_sgemm. An engine built on
/// OpenBLAS could not run the forward faster than that. The summary adds tokens/s.
/// </summary>
[Config(typeof(Config))]
public unsafe class ModelStepBenchmarks
{
    private const int Batch = 4, Length = 256, Threads = 2;

    private CpuBackend _backend = null!;
    private MistralModel _model = null!;
    private Tape _tape = null!;
    private AdamWOptimizer _optimizer = null!;
    private CausalLmLoss.Batch _data = null!;
    private Tensor _tokens = null!, _positions = null!;
    private List<(GemmShape Shape, GemmShape.Operands Operands)> _projections = [];

    [Params("tiny", "small")]
    public string Preset { get; set; } = "small";

    [GlobalSetup(Targets = [nameof(Forward), nameof(TrainingStep)])]
    public void SetUpModel()
    {
        var config = MistralPresets.Get(Preset);
        _backend = new CpuBackend(Threads);
        _model = new MistralModel(config, _backend, RandomInitializer.Create(config, _backend, seed: 0));
        var random = new Random(1);
        var rows = Enumerable.Range(0, Batch).Select(_ => Enumerable.Range(0, Length).Select(_ => random.Next(config.VocabSize)).ToArray()).ToArray();
        _data = CausalLmLoss.Batch.NextTokens(rows);
        _tokens = _backend.FromInts(_data.Tokens, Batch, Length);
        _positions = _backend.FromInts(rows.SelectMany(r => Enumerable.Range(0, r.Length)).ToArray(), Batch, Length);
        _tape = new Tape(_backend);
        _optimizer = new AdamWOptimizer(_backend, _model.Parameters, _model.AttachGradients(), new AdamWOptions());
    }

    [GlobalSetup(Target = nameof(OpenBlasProjections))]
    public void SetUpOpenBlas()
    {
        OpenBlas.EnsureAvailable();
        OpenBlas.SetThreads(Threads);
        var config = MistralPresets.Get(Preset);
        int tokens = Batch * Length, q = config.NumAttentionHeads * config.HeadDim, kv = config.NumKeyValueHeads * config.HeadDim;
        var perLayer = new[] { (q, config.HiddenSize), (kv, config.HiddenSize), (kv, config.HiddenSize), (config.HiddenSize, q),
            (config.IntermediateSize, config.HiddenSize), (config.IntermediateSize, config.HiddenSize), (config.HiddenSize, config.IntermediateSize) };
        var shapes = Enumerable.Repeat(perLayer, config.NumHiddenLayers).SelectMany(l => l)
            .Append((config.VocabSize, config.HiddenSize)).Select(s => new GemmShape(tokens, s.Item1, s.Item2));
        var operands = new Dictionary<GemmShape, GemmShape.Operands>();
        _projections = shapes.Select(s => (s, operands.TryGetValue(s, out var o) ? o : operands[s] = new GemmShape.Operands(s, seed: 1))).ToList();
    }

    [Benchmark(Baseline = true, Description = "OpenBLAS: forward projections only")]
    public void OpenBlasProjections()
    {
        foreach (var (shape, operands) in _projections)
            OpenBlas.Sgemm(operands.A, operands.B, operands.C, shape.M, shape.N, shape.K, false, true);
    }

    [Benchmark(Description = "ours: whole forward")]
    public void Forward() => _model.Forward(_tokens, _positions);

    [Benchmark(Description = "ours: whole training step")]
    public void TrainingStep()
    {
        CausalLmLoss.ForwardBackward(_model, _tape, _data, _data.LossTokens, _optimizer.LossSum);
        _optimizer.Apply(1e-6, maxGradNorm: 1.0);
    }

    [GlobalCleanup]
    public void CleanUp()
    {
        foreach (var operands in _projections.Select(p => p.Operands).Distinct()) operands.Dispose();
        _projections = [];
        _optimizer?.Dispose();
        _tape?.Dispose();
        _model?.Dispose();
        _backend?.Dispose();
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(8));
            AddColumn(new ThroughputColumn("tokens/s", "batch × sequence tokens per second of the step (mean time)", _ => Batch * Length, "F0"));
            HideColumns(Column.Error, Column.StdDev);
        }
    }
}
