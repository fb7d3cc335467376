using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>
/// Trains a reward model: a Mistral backbone with a scalar head read at each sequence's last real token, on
/// preference pairs with the Bradley–Terry loss −log σ(r(chosen) − r(rejected) − margin). Starting from a causal LM
/// the head starts at zero. Checkpoints, resume and non-finite handling as in SFT.
/// </summary>
public sealed class RewardModelTrainer : IDisposable
{
    private readonly TrainableModel _model;
    private readonly PreferenceLoader _data;
    private readonly RunSpec<RewardModelOptions> _spec;
    private readonly TrainingLoop _loop;
    private readonly string _tokenizerDirectory, _fingerprint;

    private RewardModelTrainer(TrainableModel model, PreferenceLoader data, RunSpec<RewardModelOptions> spec, string runDirectory,
        string tokenizerDirectory, string fingerprint)
    {
        (_model, _data, _spec, _tokenizerDirectory, _fingerprint) = (model, data, spec, tokenizerDirectory, fingerprint);
        RunDirectory = Path.GetFullPath(runDirectory);
        _loop = new TrainingLoop(RunDirectory, spec.Options.SaveEvery, spec.Options.KeepCheckpoints, spec.Options.MaxConsecutiveSkips);
    }

    public string RunDirectory { get; }
    public int Step => _loop.Step;
    public RewardModelOptions Options => _spec.Options;
    public string MetricsPath => _loop.MetricsPath;

    public static RewardModelTrainer Start(RunSpec<RewardModelOptions> spec, string runDirectory, Backend backend)
    {
        spec.Options.Validate();
        RunDirectories.RequireNoCheckpoints(runDirectory);
        var (data, fingerprint) = LoadData(spec, spec.ModelDirectory, DataPosition.Start(spec.Options.Seed));
        var model = new TrainableModel(MistralCheckpoint.LoadSequenceClassifier(spec.ModelDirectory, backend, checkFinite: true), spec.Options.Optimizer);
        Directory.CreateDirectory(runDirectory);
        spec.Save(runDirectory);
        return new RewardModelTrainer(model, data, spec, runDirectory, spec.ModelDirectory, fingerprint);
    }

    public static RewardModelTrainer Resume(string runDirectory, Backend backend, int? steps = null)
    {
        var spec = RunSpec<RewardModelOptions>.Load(runDirectory);
        if (steps is int total) spec = spec with { Options = spec.Options with { Steps = total } };
        spec.Options.Validate();
        var checkpoint = RunDirectories.LatestCheckpoint(runDirectory);
        var state = TrainerState.Load(checkpoint);
        var (data, fingerprint) = LoadData(spec, checkpoint, state.DataPosition);
        RunDirectories.RequireSameData(spec.DataPath, checkpoint, fingerprint, state.DataFingerprint);
        var trainer = new RewardModelTrainer(TrainableModel.Load(checkpoint, backend, spec.Options.Optimizer, state.OptimizerStep),
            data, spec, runDirectory, checkpoint, fingerprint);
        trainer._loop.Restore(state.Step, state.SkippedSteps, state.ConsecutiveSkips);
        return trainer;
    }

    /// <summary>Trains until <see cref="RewardModelOptions.Steps"/>; returns the final checkpoint, a sequence-classifier model directory.</summary>
    public string Run(IProgress<RewardModelStepMetrics>? progress = null, CancellationToken cancellation = default) =>
        _loop.Run(_spec.Options.Steps, TrainStep, SaveCheckpoint, progress, cancellation);

    private RewardModelStepMetrics TrainStep(int step)
    {
        var options = _spec.Options;
        double learningRate = options.Schedule().At(step);
        var batch = _data.NextBatch();
        var scores = RewardScoring.ForwardBackward(_model, batch);
        var (norm, updated) = _model.ApplyGradients(learningRate, options.MaxGradNorm, double.IsFinite(scores.Loss));
        return new RewardModelStepMetrics(step, options.Steps, scores.Loss, scores.Accuracy, scores.Chosen.Average(), scores.Rejected.Average(),
            StandardDeviation(scores.Chosen.Concat(scores.Rejected)), learningRate, norm, !updated, !updated, _data.Epochs);
    }

    private void SaveCheckpoint(string directory)
    {
        _model.Save(directory, _tokenizerDirectory);
        new TrainerState(_loop.Step, _model.Optimizer.Step, _data.Position, _loop.SkippedSteps, _loop.ConsecutiveNonFinite, _fingerprint).Save(directory);
    }

    private static (PreferenceLoader Data, string Fingerprint) LoadData(RunSpec<RewardModelOptions> spec, string tokenizerDirectory, DataPosition position)
    {
        var tokenizer = MistralTokenizer.Load(tokenizerDirectory);
        var pairs = PreferenceJsonl.Read(spec.DataPath);
        var encoder = new Sft.Data.SftExampleTokenizer(tokenizer);
        var fingerprint = TrainerState.Fingerprint(pairs.SelectMany(p => new[]
        {
            encoder.Tokenize(new Sft.Data.PromptResponseExample(p.Prompt, p.Chosen)).Ids,
            encoder.Tokenize(new Sft.Data.PromptResponseExample(p.Prompt, p.Rejected)).Ids,
            [BitConverter.DoubleToInt64Bits(p.Margin).GetHashCode()],
        }));
        return (new PreferenceLoader(pairs, tokenizer, spec.Options.BatchSize, spec.Options.MaxLength, position), fingerprint);
    }

    private static double StandardDeviation(IEnumerable<double> values)
    {
        var list = values.ToList();
        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / list.Count);
    }

    public void Dispose() => _model.Dispose();
}
