using System.Diagnostics;
using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Sft;

/// <summary>
/// Supervised fine-tuning: packed next-token batches, gradient accumulation, clipping, AdamW with warmup and
/// cosine decay, checkpoints every N steps (weights in float32, optimizer moments, data position) from which
/// <see cref="Resume"/> continues bit for bit; non-finite steps are skipped and counted, too many in a row stop the run.
/// </summary>
public sealed class SftTrainer : IDisposable
{
    private const string OptimizerFileName = "optimizer.safetensors";
    private static readonly string[] TokenizerFiles = [MistralTokenizer.ModelFileName, "tokenizer_config.json", "special_tokens_map.json"];

    private readonly MistralModel _model;
    private readonly Tape _tape;
    private readonly AdamWOptimizer _optimizer;
    private readonly SftDataLoader _data;
    private readonly SftRunSpec _spec;
    private readonly CheckpointDirectory _checkpoints;
    private readonly string _tokenizerDirectory, _fingerprint;
    private int _step, _skippedSteps, _consecutiveSkips;

    private SftTrainer(MistralModel model, SftDataLoader data, SftRunSpec spec, string runDirectory, string tokenizerDirectory, string fingerprint)
    {
        (_model, _data, _spec, _tokenizerDirectory, _fingerprint) = (model, data, spec, tokenizerDirectory, fingerprint);
        RunDirectory = Path.GetFullPath(runDirectory);
        _checkpoints = new CheckpointDirectory(RunDirectory, spec.Options.KeepCheckpoints);
        _tape = new Tape(model.Backend);
        _optimizer = new AdamWOptimizer(model.Backend, model.Parameters, model.AttachGradients(), spec.Options.Optimizer);
    }

    public string RunDirectory { get; }
    public int Step => _step;
    public SftOptions Options => _spec.Options;
    public string MetricsPath => Path.Combine(RunDirectory, "metrics.jsonl");

    /// <summary>Test seam: called after the backward pass of a step, with the step and the accumulated gradients.</summary>
    internal Action<int, IReadOnlyDictionary<string, Tensor>>? AfterBackward { get; set; }

    /// <summary>Test seam: fills a gradient with NaN, as a blown-up step would.</summary>
    internal void Poison(Tensor gradient)
    {
        var nan = new float[gradient.ElementCount];
        Array.Fill(nan, float.NaN);
        _model.Backend.Upload(nan, gradient);
    }

    /// <summary>Starts a new run in <paramref name="runDirectory"/>, which must not hold checkpoints yet.</summary>
    public static SftTrainer Start(SftRunSpec spec, string runDirectory, Backend backend)
    {
        spec.Options.Validate();
        if (new CheckpointDirectory(runDirectory).Latest is { } existing)
            throw new IOException($"{Path.GetFullPath(runDirectory)} already holds checkpoints ({Path.GetFileName(existing)}); resume it or choose another output directory");
        var (data, fingerprint) = LoadData(spec, spec.ModelDirectory, SftLoaderPosition.Start(spec.Options.Seed));
        var model = MistralCheckpoint.LoadModel(spec.ModelDirectory, backend, checkFinite: true);
        Directory.CreateDirectory(runDirectory);
        spec.Save(runDirectory);
        return new SftTrainer(model, data, spec, runDirectory, spec.ModelDirectory, fingerprint);
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> from its latest checkpoint, optionally to a new step count.</summary>
    public static SftTrainer Resume(string runDirectory, Backend backend, int? steps = null)
    {
        var spec = SftRunSpec.Load(runDirectory);
        if (steps is int total) spec = spec with { Options = spec.Options with { Steps = total } };
        spec.Options.Validate();
        var checkpoint = new CheckpointDirectory(runDirectory).Latest
            ?? throw new IOException($"{Path.GetFullPath(runDirectory)} has no checkpoint to resume from");
        var state = SftTrainerState.Load(checkpoint);
        var (data, fingerprint) = LoadData(spec, checkpoint, state.DataPosition);
        if (fingerprint != state.DataFingerprint)
            throw new InvalidDataException($"{spec.DataPath}: the data changed since {checkpoint} was written (fingerprint {fingerprint}, expected {state.DataFingerprint})");
        var model = MistralCheckpoint.LoadModel(checkpoint, backend, checkFinite: true);
        var trainer = new SftTrainer(model, data, spec, runDirectory, checkpoint, fingerprint)
        {
            _step = state.Step,
            _skippedSteps = state.SkippedSteps,
            _consecutiveSkips = state.ConsecutiveSkips,
        };
        using (var optimizerState = SafeTensorsFile.Open(Path.Combine(checkpoint, OptimizerFileName)))
            trainer._optimizer.Restore(name => optimizerState.ReadFloats(name), state.OptimizerStep);
        return trainer;
    }

    /// <summary>Trains until <see cref="SftOptions.Steps"/>; returns the path of the final checkpoint.</summary>
    public string Run(IProgress<SftStepMetrics>? progress = null, CancellationToken cancellation = default)
    {
        var options = _spec.Options;
        var gradients = _model.Gradients!;
        using var metrics = new MetricsLog(MetricsPath, resumedFromStep: _step);
        while (_step < options.Steps)
        {
            if (cancellation.IsCancellationRequested)
            {
                if (_step > 0) SaveCheckpoint(); // an interrupted run keeps its progress
                cancellation.ThrowIfCancellationRequested();
            }
            var report = TrainStep(_step + 1, options, gradients);
            _step++;
            metrics.Write(report.ToJson());
            progress?.Report(report);
            if (_consecutiveSkips > options.MaxConsecutiveSkips)
                throw new TrainingDivergedException($"{_consecutiveSkips} steps in a row had a non-finite loss or gradient (last: step {_step}); " +
                    $"stopping. The last good checkpoint is {_checkpoints.Latest ?? "none (no step was saved)"}");
            if (_step % options.SaveEvery == 0 || _step == options.Steps) SaveCheckpoint();
        }
        return _checkpoints.Latest!;
    }

    private SftStepMetrics TrainStep(int step, SftOptions options, IReadOnlyDictionary<string, Tensor> gradients)
    {
        var clock = Stopwatch.StartNew();
        double learningRate = options.Schedule.At(step);
        var batches = Enumerable.Range(0, options.AccumulationSteps).Select(_ => _data.NextBatch()).ToList();
        int lossTokens = batches.Sum(b => b.LossTokenCount);
        double lossSum = 0;
        foreach (var batch in lossTokens > 0 ? batches : [])
            lossSum += CausalLmLoss.ForwardBackward(_model, _tape, new CausalLmLoss.Batch(batch.Tokens, batch.Targets, batch.BatchSize, batch.SequenceLength), lossTokens);
        AfterBackward?.Invoke(step, gradients);

        double loss = lossTokens > 0 ? lossSum / lossTokens : double.NaN;
        double norm = GradientClipping.GlobalNorm(_model.Backend, gradients.Values);
        bool finite = double.IsFinite(loss) && double.IsFinite(norm);
        if (finite) _optimizer.Update(learningRate, GradientClipping.Scale(norm, options.MaxGradNorm));
        foreach (var gradient in gradients.Values) _model.Backend.Zero(gradient);

        bool skipped = !finite;
        _skippedSteps += skipped ? 1 : 0;
        // A batch without loss tokens is not a sign of divergence, only a step without an update.
        _consecutiveSkips = skipped && lossTokens > 0 ? _consecutiveSkips + 1 : 0;
        var position = _data.Position;
        double tokensPerSecond = options.BatchSize * options.SequenceLength / clock.Elapsed.TotalSeconds;
        return new SftStepMetrics(step, options.Steps, loss, learningRate, norm, tokensPerSecond, lossTokens, skipped, _skippedSteps,
            position.Epoch + (double)position.Index / _data.SequenceCount);
    }

    private void SaveCheckpoint() => _checkpoints.Save(_step, directory =>
    {
        MistralCheckpoint.SaveParameters(directory, _model.Config, _model.Parameters.Select(p => (p.Key, p.Value)), DType.F32,
            MistralCheckpoint.DefaultMaxShardBytes);
        foreach (var file in TokenizerFiles.Select(f => Path.Combine(_tokenizerDirectory, f)).Where(File.Exists))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        var state = _optimizer.State().ToList();
        using (var writer = new SafeTensorsWriter(Path.Combine(directory, OptimizerFileName),
                   state.Select(s => new SafeTensorInfo(s.Name, SafeTensorsDType.F32, s.Tensor.Shape))))
        {
            foreach (var (name, tensor) in state) writer.Write(name, _model.Backend.ToFloats(tensor));
            writer.Commit();
        }
        new SftTrainerState(_step, _optimizer.Step, _data.Position, _skippedSteps, _consecutiveSkips, _fingerprint).Save(directory);
    });

    private static (SftDataLoader Data, string Fingerprint) LoadData(SftRunSpec spec, string tokenizerDirectory, SftLoaderPosition position)
    {
        var tokenizer = MistralTokenizer.Load(tokenizerDirectory);
        var exampleTokenizer = new SftExampleTokenizer(tokenizer);
        var packed = SequencePacker.Pack(SftJsonlReader.Read(spec.DataPath).Select(exampleTokenizer.Tokenize), spec.Options.SequenceLength, tokenizer.EosId);
        if (packed.Count == 0) throw new InvalidDataException($"{spec.DataPath}: no training sequences");
        return (new SftDataLoader(packed, spec.Options.MicroBatchSize, position), Fingerprint(packed));
    }

    // FNV-1a over every packed input and target: cheap, and any change to the data or its tokenization shows.
    private static string Fingerprint(IReadOnlyList<PackedSequence> sequences)
    {
        ulong hash = 14695981039346656037;
        foreach (var sequence in sequences)
        foreach (int value in sequence.Inputs.Concat(sequence.Targets))
            hash = (hash ^ (uint)value) * 1099511628211;
        return hash.ToString("x16");
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _tape.Dispose();
        _model.Dispose();
    }
}
