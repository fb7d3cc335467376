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
public sealed class RewardModelTrainer : SingleModelTrainer<RewardModelOptions, PreferenceLoader, RewardModelStepMetrics>
{
    private RewardModelTrainer(TrainableModel model, PreferenceLoader data, RunSpec<RewardModelOptions> spec, string runDirectory,
        string tokenizerDirectory, string fingerprint, TrainerState? resumed)
        : base(model, data, spec, runDirectory, tokenizerDirectory, fingerprint, resumed)
    {
    }

    public static RewardModelTrainer Start(RunSpec<RewardModelOptions> spec, string runDirectory, Backend backend)
    {
        spec.Options.Validate();
        RunDirectories.RequireNoCheckpoints(runDirectory);
        var (data, fingerprint) = LoadData(spec, spec.ModelDirectory, DataPosition.Start(spec.Options.Seed));
        var model = new TrainableModel(MistralCheckpoint.LoadSequenceClassifier(spec.ModelDirectory, backend, checkFinite: true), spec.Options.Optimizer);
        Directory.CreateDirectory(runDirectory);
        spec.Save(runDirectory);
        return new RewardModelTrainer(model, data, spec, runDirectory, spec.ModelDirectory, fingerprint, resumed: null);
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
        return new RewardModelTrainer(TrainableModel.Load(checkpoint, backend, spec.Options.Optimizer, state.OptimizerStep),
            data, spec, runDirectory, checkpoint, fingerprint, state);
    }

    /// <summary>One step; the final checkpoint of <see cref="SingleModelTrainer{TOptions, TData, TReport}.Run"/> is a sequence-classifier model directory.</summary>
    protected override RewardModelStepMetrics TrainStep(int step)
    {
        var options = Options;
        double learningRate = options.Schedule().At(step);
        var batch = Data.NextBatch();
        var scores = RewardScoring.ForwardBackward(Model, batch);
        var (norm, updated) = Model.ApplyGradients(learningRate, options.MaxGradNorm, double.IsFinite(scores.Loss));
        return new RewardModelStepMetrics(step, options.Steps, scores.Loss, scores.Accuracy, scores.Chosen.Average(), scores.Rejected.Average(),
            StandardDeviation(scores.Chosen.Concat(scores.Rejected)), learningRate, norm, !updated, !updated, Data.Epochs);
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
}
