using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
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
        TokenizerFiles tokenizer, string fingerprint, TrainerState? resumed)
        : base(model, data, spec, runDirectory, tokenizer, fingerprint, resumed)
    {
    }

    public static RewardModelTrainer Start(RunSpec<RewardModelOptions> spec, string runDirectory, Backend backend)
    {
        spec.Options.Validate();
        RunDirectories.RequireNoCheckpoints(runDirectory);
        RequireFits(MistralCheckpoint.LoadConfig(spec.ModelDirectory), spec.Options, backend);
        var tokenizer = TokenizerFiles.Read(spec.ModelDirectory);
        var (data, fingerprint) = LoadData(spec, tokenizer, DataPosition.Start(spec.Options.Seed));
        var model = new TrainableModel(MistralCheckpoint.LoadSequenceClassifier(spec.ModelDirectory, backend), spec.Options.Optimizer);
        Directory.CreateDirectory(runDirectory);
        spec.Save(runDirectory);
        return new RewardModelTrainer(model, data, spec, runDirectory, tokenizer, fingerprint, resumed: null);
    }

    public static RewardModelTrainer Resume(string runDirectory, Backend backend, Func<RewardModelOptions, RewardModelOptions>? change = null)
    {
        var spec = RunSpec<RewardModelOptions>.Resumed(runDirectory, change);
        var checkpoint = RunDirectories.LatestCheckpoint(runDirectory);
        RequireFits(MistralCheckpoint.LoadConfig(checkpoint), spec.Options, backend);
        var state = TrainerState.Load(checkpoint);
        var tokenizer = RunDirectories.ResumedTokenizer(checkpoint, spec.ModelDirectory);
        var (data, fingerprint) = LoadData(spec, tokenizer, state.DataPosition);
        RunDirectories.RequireSameData(spec.DataPath, checkpoint, fingerprint, state.DataFingerprint);
        return new RewardModelTrainer(TrainableModel.Load(checkpoint, backend, spec.Options.Optimizer, state.OptimizerStep),
            data, spec, runDirectory, tokenizer, fingerprint, state);
    }

    /// <summary>Pairs the model has positions for, and a batch (chosen and rejected) whose activations fit the backend's memory.</summary>
    private static void RequireFits(MistralConfig config, RewardModelOptions options, Backend backend)
    {
        config.RequirePositions(options.MaxLength, "the longest pair (--max-length)");
        ActivationMemory.RequireFits(config, 2.0 * options.BatchSize * options.MaxLength, backend, "the batch (2 × --batch × --max-length)");
    }

    /// <summary>One step; the final checkpoint of <see cref="SingleModelTrainer{TOptions, TData, TReport}.Run"/> is a sequence-classifier model directory.</summary>
    protected override RewardModelStepMetrics TrainStep(int step)
    {
        var options = Options;
        double learningRate = options.Schedule().At(step);
        var batch = Data.NextBatch();
        var scores = RewardScoring.ForwardBackward(Model, batch);
        var outcome = Model.Optimizer.Apply(learningRate, options.MaxGradNorm, double.IsFinite(scores.Loss));
        return new RewardModelStepMetrics(step, options.Steps, scores.Loss, scores.Accuracy, scores.Chosen.Average(), scores.Rejected.Average(),
            StandardDeviation(scores.Chosen.Concat(scores.Rejected)), learningRate, outcome.GradientNorm, !outcome.Updated, !outcome.Updated, Data.Epochs);
    }

    private static (PreferenceLoader Data, string Fingerprint) LoadData(RunSpec<RewardModelOptions> spec, TokenizerFiles tokenizerFiles, DataPosition position)
    {
        var tokenizer = tokenizerFiles.CreateTokenizer();
        var pairs = PreferenceJsonl.Read(spec.DataPath);
        var encoder = new Sft.Data.SftExampleTokenizer(tokenizer);
        var fingerprint = TrainerState.Fingerprint(pairs.SelectMany(p => new[]
        {
            encoder.Tokenize(new Sft.Data.PromptResponseExample(p.Prompt, p.Chosen)).Ids,
            encoder.Tokenize(new Sft.Data.PromptResponseExample(p.Prompt, p.Rejected)).Ids,
            [BitConverter.DoubleToInt64Bits(p.Margin).GetHashCode()],
        }));
        try
        {
            return (new PreferenceLoader(pairs, tokenizer, spec.Options.BatchSize, spec.Options.MaxLength, position), fingerprint);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{spec.DataPath}: {e.Message}", e);
        }
    }

    private static double StandardDeviation(IEnumerable<double> values)
    {
        var list = values.ToList();
        double mean = list.Average();
        return Math.Sqrt(list.Sum(v => (v - mean) * (v - mean)) / list.Count);
    }
}
