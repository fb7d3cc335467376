using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>
/// Trains a reward model: a Mistral backbone with a scalar head read at each sequence's last real token, on
/// preference pairs with the Bradley–Terry loss −log σ(r(chosen) − r(rejected) − margin), plus the optional centering term
/// (<see cref="RewardModelOptions.CenterRewardsCoefficient"/>). Starting from a causal LM
/// the head starts at zero. Checkpoints, resume and non-finite handling as in SFT. Data-parallel: every rank reads the
/// same batches and scores pairs rank, rank + N, … of each; the gradient of each pair is divided by the whole batch's
/// pairs, so the gradients the optimizer sums are the whole batch's, and the logged figures are summed over the ranks.
/// </summary>
public sealed class RewardModelTrainer : SingleModelTrainer<RewardModelOptions, PreferenceLoader, RewardModelStepMetrics>
{
    private RewardModelTrainer(TrainableModel model, PreferenceLoader data, RunSpec<RewardModelOptions> spec, string runDirectory,
        TokenizerFiles tokenizer, string fingerprint, TrainerState? resumed, ICommunicator? communicator)
        : base(model, data, spec, runDirectory, tokenizer, fingerprint, resumed, communicator)
    {
    }

    /// <param name="communicator">The ranks of a data-parallel job (every rank calls Start alike); null: one process.</param>
    public static RewardModelTrainer Start(RunSpec<RewardModelOptions> spec, string runDirectory, Backend backend, ICommunicator? communicator = null)
    {
        spec.Options.Validate();
        RequireShares(spec.Options, communicator);
        RunDirectories.RequireNoCheckpoints(runDirectory);
        RequireFits(MistralCheckpoint.LoadConfig(spec.ModelDirectory), spec.Options, backend);
        var tokenizer = TokenizerFiles.Read(spec.ModelDirectory);
        var (data, fingerprint) = LoadData(spec, tokenizer, DataPosition.Start(spec.Options.Seed));
        var model = new TrainableModel(MistralCheckpoint.LoadSequenceClassifier(spec.ModelDirectory, backend), spec.Options.Optimizer, communicator,
            BradleyTerryStatistics.Count);
        Directory.CreateDirectory(runDirectory);
        if (communicator?.IsRoot ?? true) spec.Save(runDirectory);
        return new RewardModelTrainer(model, data, spec, runDirectory, tokenizer, fingerprint, resumed: null, communicator);
    }

    public static RewardModelTrainer Resume(string runDirectory, Backend backend, Func<RewardModelOptions, RewardModelOptions>? change = null,
        ICommunicator? communicator = null)
    {
        var spec = RunSpec<RewardModelOptions>.Resumed(runDirectory, change);
        RequireShares(spec.Options, communicator);
        var checkpoint = RunDirectories.LatestCheckpoint(runDirectory);
        RequireFits(MistralCheckpoint.LoadConfig(checkpoint), spec.Options, backend);
        var state = TrainerState.Load(checkpoint);
        var tokenizer = RunDirectories.ResumedTokenizer(checkpoint, spec.ModelDirectory);
        var (data, fingerprint) = LoadData(spec, tokenizer, state.DataPosition);
        RunDirectories.RequireSameData(spec.DataPath, checkpoint, fingerprint, state.DataFingerprint);
        return new RewardModelTrainer(TrainableModel.Load(checkpoint, backend, spec.Options.Optimizer, state.OptimizerStep, communicator, BradleyTerryStatistics.Count),
            data, spec, runDirectory, tokenizer, fingerprint, state, communicator);
    }

    private static void RequireShares(RewardModelOptions options, ICommunicator? communicator) =>
        RequireShares(options.BatchSize, "pairs (--batch)", communicator);

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
        RewardScoring.ForwardBackward(Model, batch.Share(Communicator.Rank, Communicator.Size), options.CenterRewardsCoefficient, batch.Pairs);
        // The loss and the sums, over this rank's pairs and then over the ranks, come back with the optimizer's one read.
        var outcome = Model.Optimizer.Apply(learningRate, options.MaxGradNorm);
        var sums = outcome.Statistics;
        double pairs = batch.Pairs, loss = outcome.LossSum / pairs, accuracy = sums[BradleyTerryStatistics.Correct] / pairs;
        double chosenMean = sums[BradleyTerryStatistics.ChosenSum] / pairs, rejectedMean = sums[BradleyTerryStatistics.RejectedSum] / pairs;
        double mean = (chosenMean + rejectedMean) / 2, deviation = Math.Sqrt(Math.Max(0, sums[BradleyTerryStatistics.SquareSum] / (2 * pairs) - mean * mean));
        return new RewardModelStepMetrics(step, options.Steps, loss, accuracy, chosenMean, rejectedMean, deviation, learningRate, outcome.GradientNorm,
            !outcome.Updated, !outcome.Updated, Data.Epochs);
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
            return (new PreferenceLoader(pairs, tokenizer, spec.Options.BatchSize, spec.Options.MaxLength, position, spec.Options.GroupByLength), fingerprint);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{spec.DataPath}: {e.Message}", e);
        }
    }
}
