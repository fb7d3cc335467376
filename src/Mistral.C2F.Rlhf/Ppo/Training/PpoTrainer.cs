using System.Diagnostics;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.Ppo.Rollouts;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Ppo.Training;

/// <summary>
/// PPO with Continuous Maximization, the Coarse Actor of the method: each iteration samples rollouts from the actor with
/// the KV cache up to the current length limit, scores them with the frozen reference and reward model and the critic
/// (forward only, no activations kept), builds per-token rewards (−β·KL, the score at the last real token), GAE and
/// whitened advantages, then runs num_ppo_epochs × num_mini_batches clipped updates of the actor and the critic, and
/// finally updates the KL controller and the length limit. Checkpoints (actor, critic, controllers, data position)
/// and --resume work as in SFT. Data-parallel over ranks (TRL's way): each rank generates and scores its share of the
/// rollouts, the shares are gathered so every rank computes the batch's statistics on the whole batch, and each rank
/// trains on its share of every mini-batch, its gradients weighted by its share of the mini-batch's tokens and summed
/// over the ranks — the single process's update.
/// </summary>
public sealed class PpoTrainer : IDisposable
{
    private const string ActorDirectory = "actor", CriticDirectoryName = "critic";

    private readonly TrainableModel _actor, _critic;
    private readonly MistralModel _reference, _rewardModel;
    private readonly ShuffledEpochs<PpoPrompt> _prompts;
    private readonly IReadOnlyList<PpoPrompt>? _validation;
    private readonly MistralTokenizer _tokenizer;
    private readonly RunSpec<PpoTrainingOptions> _spec;
    private readonly TrainingLoop _loop;
    private readonly ICommunicator _communicator;
    private readonly RolloutShare _share;
    private readonly TokenizerFiles _tokenizerFiles;
    private readonly string _fingerprint;
    private IKlController _kl;
    private ContinuousMaximizationState _lengthLimit;
    private RunningMoments _scoreMoments;

    /// <param name="tokenizerFiles">The actor's tokenizer, written into the actor's and the critic's checkpoints (the critic reads the actor's tokens).</param>
    private PpoTrainer(RunSpec<PpoTrainingOptions> spec, string runDirectory, Models models, ShuffledEpochs<PpoPrompt> prompts, TokenizerFiles tokenizerFiles,
        string fingerprint, PpoState? state, ICommunicator? communicator)
    {
        _communicator = communicator ?? SingleProcess.Instance;
        _share = new RolloutShare(_communicator, spec.Options.RolloutsPerIteration);
        (_spec, _actor, _critic, _reference, _rewardModel) = (spec, models.Actor, models.Critic, models.Reference, models.RewardModel);
        (_prompts, _tokenizerFiles, _tokenizer, _fingerprint) = (prompts, tokenizerFiles, tokenizerFiles.CreateTokenizer(), fingerprint);
        _validation = spec.Options.ValidationPrompts is { } validation ? ReadPrompts(validation, _tokenizer) : null;
        if (_validation?.Any(p => p.Answer is null) == true)
            throw new InvalidDataException($"{spec.Options.ValidationPrompts}: every validation prompt needs a reference response with a checkable answer");
        RunDirectory = Path.GetFullPath(runDirectory);
        var options = spec.Options;
        _loop = new TrainingLoop(RunDirectory, options.SaveEvery, options.KeepCheckpoints, options.MaxConsecutiveSkips, _communicator);
        _kl = state?.KlController ?? options.Ppo.CreateKlController();
        _lengthLimit = state?.LengthLimit ?? ContinuousMaximizationState.Start(options.Ppo.ContinuousMaximization);
        _scoreMoments = state?.ScoreMoments ?? RunningMoments.Empty;
        if (state is not null) _loop.Restore(state.Iteration, state.SkippedSteps, state.ConsecutiveSkips);
    }

    public string RunDirectory { get; }
    public int Step => _loop.Step;
    public PpoTrainingOptions Options => _spec.Options;
    public string MetricsPath => _loop.MetricsPath;

    /// <summary>Parameter elements of the actor and the critic whose AdamW moments this rank keeps, and all of them (ZeRO-1 keeps a range of each).</summary>
    public (long Kept, long Total) OptimizerState =>
        (_actor.Optimizer.StateElements + _critic.Optimizer.StateElements, _actor.Optimizer.ParameterElements + _critic.Optimizer.ParameterElements);

    /// <summary>The actor of a PPO checkpoint, a Hugging Face model directory.</summary>
    public static string ActorOf(string checkpoint) => Path.Combine(checkpoint, ActorDirectory);

    /// <summary>Starts a run: the policy from <see cref="RunSpec{T}.ModelDirectory"/>, prompts from <see cref="RunSpec{T}.DataPath"/>.</summary>
    /// <param name="communicator">The ranks of a data-parallel job (every rank calls Start alike); null: one process.</param>
    public static PpoTrainer Start(RunSpec<PpoTrainingOptions> spec, string runDirectory, Backend backend, ICommunicator? communicator = null)
    {
        spec.Options.Validate();
        RequireShares(spec.Options, communicator);
        RunDirectories.RequireNoCheckpoints(runDirectory);
        var options = spec.Options;
        var critic = options.CriticDirectory ?? options.RewardModelDirectory;
        var tokenizer = TokenizerFiles.Read(spec.ModelDirectory);
        var (prompts, fingerprint) = LoadPrompts(spec, tokenizer, MistralCheckpoint.LoadConfig(spec.ModelDirectory), DataPosition.Start(options.Seed));
        var models = LoadModels(spec, backend,
            new TrainableModel(MistralCheckpoint.LoadModel(spec.ModelDirectory, backend), options.Optimizer, communicator, PpoLosses.PolicyStatistics),
            new TrainableModel(MistralCheckpoint.LoadSequenceClassifier(critic, backend), options.Optimizer, communicator, PpoLosses.ValueStatistics));
        Directory.CreateDirectory(runDirectory);
        if (communicator?.IsRoot ?? true) spec.Save(runDirectory);
        return new PpoTrainer(spec, runDirectory, models, prompts, tokenizer, fingerprint, state: null, communicator);
    }

    public static PpoTrainer Resume(string runDirectory, Backend backend, Func<PpoTrainingOptions, PpoTrainingOptions>? change = null,
        ICommunicator? communicator = null)
    {
        var spec = RunSpec<PpoTrainingOptions>.Resumed(runDirectory, change);
        RequireShares(spec.Options, communicator);
        var checkpoint = RunDirectories.LatestCheckpoint(runDirectory);
        var state = PpoState.Load(checkpoint);
        var (actor, critic) = (ActorOf(checkpoint), Path.Combine(checkpoint, CriticDirectoryName));
        var tokenizer = RunDirectories.ResumedTokenizer(actor, spec.ModelDirectory);
        var (prompts, fingerprint) = LoadPrompts(spec, tokenizer, MistralCheckpoint.LoadConfig(actor), state.DataPosition);
        RunDirectories.RequireSameData(spec.DataPath, checkpoint, fingerprint, state.DataFingerprint);
        var models = LoadModels(spec, backend,
            TrainableModel.Load(actor, backend, spec.Options.Optimizer, state.ActorOptimizerStep, communicator, PpoLosses.PolicyStatistics),
            TrainableModel.Load(critic, backend, spec.Options.Optimizer, state.CriticOptimizerStep, communicator, PpoLosses.ValueStatistics));
        return new PpoTrainer(spec, runDirectory, models, prompts, tokenizer, fingerprint, state, communicator);
    }

    /// <summary>Every rank takes as many rollouts of every iteration, and of every mini-batch, as the others.</summary>
    private static void RequireShares(PpoTrainingOptions options, ICommunicator? communicator)
    {
        int ranks = communicator?.Size ?? 1, miniBatches = options.Ppo.NumMiniBatches;
        if (ranks > 1 && options.RolloutsPerIteration % (ranks * miniBatches) != 0)
            throw new ArgumentException($"{options.RolloutsPerIteration} rollouts an iteration (--rollouts) in {miniBatches} mini-batches cannot be shared " +
                $"by {ranks} ranks; make them a multiple of {ranks * miniBatches}");
    }

    /// <summary>Runs the remaining iterations; returns the final checkpoint (its actor is <see cref="ActorOf"/>).</summary>
    public string Run(IProgress<PpoIterationMetrics>? progress = null, CancellationToken cancellation = default) =>
        _loop.Run(_spec.Options.Iterations, iteration => Iterate(iteration, cancellation), SaveCheckpoint, progress, cancellation, () =>
        {
            _actor.Optimizer.GatherState();
            _critic.Optimizer.GatherState();
        });

    private PpoIterationMetrics Iterate(int iteration, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var ppo = _spec.Options.Ppo;
        var rollouts = Rollouts.Collect(this, iteration, cancellation);
        var statistics = new PpoUpdateStatistics();
        // The first freezing_actor_steps iterations train the critic alone, so the actor learns from values that fit the rewards.
        var learningRates = (Actor: iteration > ppo.FreezingActorSteps ? ppo.LearningRate(ppo.ActorLearningRate, iteration, Options.Iterations) : (double?)null,
            Critic: ppo.LearningRate(ppo.CriticLearningRate, iteration, Options.Iterations));
        bool nonFinite = false;
        for (int epoch = 0; epoch < ppo.NumPpoEpochs; epoch++)
        {
            var order = EpochShuffle.Order(_spec.Options.Seed, iteration * ppo.NumPpoEpochs + epoch, rollouts.Batch.Count);
            foreach (var indices in order.Chunk((order.Length + ppo.NumMiniBatches - 1) / ppo.NumMiniBatches))
                nonFinite |= !UpdateMiniBatch(rollouts, indices, statistics, learningRates);
        }
        var summary = RolloutSummary.Compute(rollouts.Batch.Layout, rollouts.LogProbs, rollouts.Kl, rollouts.Rewards, rollouts.EndsWithEos);
        double klCoef = _kl.Coefficient;
        _kl = _kl.Update(summary.Kl, rollouts.Batch.Count);
        var firstValues = Enumerable.Range(0, rollouts.Batch.Count).Select(b => rollouts.Values[rollouts.Batch.Layout.Start(b)]).ToArray();
        var lengthUpdate = _lengthLimit.Update(ppo.ContinuousMaximization, rollouts.Rewards.Scores, firstValues,
            rollouts.EndsWithEos.Select(e => !e).ToArray());
        _lengthLimit = lengthUpdate.Next;
        var metrics = PpoMetrics.Collect(summary, klCoef, statistics, lengthUpdate);
        metrics[PpoMetrics.LearningRate] = learningRates.Actor ?? 0;
        metrics[PpoMetrics.RewardModelScores] = rollouts.RewardModelScores.Average();
        if (rollouts.Correct is { } correct)
        {
            metrics[PpoMetrics.Accuracy] = correct.Average(c => c ? 1.0 : 0.0);
            metrics[PpoMetrics.RewardModelAuc] = Evaluation.RocAuc.Compute(rollouts.RewardModelScores, correct) ?? double.NaN;
        }
        // Rank 0 alone writes the metrics, so it alone measures the validation prompts.
        if (_validation is not null && _communicator.IsRoot) metrics[PpoMetrics.EvalAccuracy] = ValidationAccuracy(cancellation);
        return new PpoIterationMetrics(iteration, _spec.Options.Iterations, metrics, clock.Elapsed.TotalSeconds, Skipped: nonFinite, NonFinite: nonFinite);
    }

    /// <summary>The actor's greedy accuracy on the validation prompts, at one token budget for every run.</summary>
    private double ValidationAccuracy(CancellationToken cancellation)
    {
        var (generator, validation) = (new Generator(_actor.Model), _validation!);
        int correct = 0;
        foreach (var chunk in validation.Chunk(Generator.PromptsPerCall))
        {
            var results = generator.Generate(chunk.Select(p => p.Ids).ToArray(), Options.ValidationMaxTokens, new SamplingOptions(), cancellation: cancellation);
            correct += chunk.Zip(results).Count(pair => Tasks.AnswerChecker.IsCorrect(_tokenizer.Decode(pair.Second.Tokens), pair.First.Answer!.Value));
        }
        return (double)correct / validation.Count;
    }

    /// <summary>
    /// One clipped update of the actor and of the critic on the mini-batch of the rollouts at <paramref name="miniBatch"/>
    /// (this rank's share of it when there are several); false when a loss was not finite. The losses are computed where
    /// the models are (<see cref="Backend.PpoPolicyLoss"/>, <see cref="Backend.PpoValueLoss"/>) and their sums come back
    /// with each optimizer's one read, summed over the ranks.
    /// </summary>
    /// <param name="learningRates">The actor's is null while it is frozen: its loss is measured, nothing is updated.</param>
    private bool UpdateMiniBatch(Rollouts rollouts, int[] miniBatch, PpoUpdateStatistics statistics, (double? Actor, double Critic) learningRates)
    {
        var ppo = _spec.Options.Ppo;
        int shareSize = miniBatch.Length / _communicator.Size;
        var indices = miniBatch.AsSpan(_communicator.Rank * shareSize, shareSize).ToArray();
        var batch = rollouts.Batch.Subset(indices, _tokenizer.EosId);
        // Each loss divides by the whole mini-batch's tokens, so the gradients summed over the ranks are those of its mean.
        int miniBatchTokens = miniBatch.Sum(i => rollouts.Batch.Responses[i].Length);
        var backend = _actor.Backend;
        using var targets = backend.FromInts(batch.ResponseTargets, batch.ResponseTargets.Length);
        Tensor PerRow(double[] perToken, Tensor like)
        {
            var tensor = backend.Allocate(like.Shape, backend.FloatType);
            backend.Upload(batch.ToRows(rollouts.Batch.SubsetValues(perToken, indices, batch)), tensor);
            return tensor;
        }

        var scored = SequenceScorer.LogProbs(_actor.Model, batch, learningRates.Actor is null ? null : _actor.Tape, withEntropy: true);
        var (logProbs, entropy) = (scored.PerRow, scored.Entropy!);
        using (var oldLogProbs = PerRow(rollouts.LogProbs, logProbs.Value))
        using (var advantages = PerRow(rollouts.Advantages, logProbs.Value))
        using (var logProbSeed = backend.Allocate(logProbs.Value.Shape, backend.FloatType))
        using (var entropySeed = backend.Allocate(entropy.Value.Shape, backend.FloatType))
        {
            backend.PpoPolicyLoss(logProbs.Value, entropy.Value, oldLogProbs, advantages, targets, new PpoLossSettings(ppo.Cliprange, ppo.EntropyCoef, miniBatchTokens),
                logProbSeed, entropySeed, _actor.Optimizer.LossSum, _actor.Optimizer.StepStatistics);
            if (learningRates.Actor is not null) _actor.Tape.Backward((logProbs, logProbSeed), (entropy, entropySeed));
        }
        var actor = learningRates.Actor is double actorLearningRate ? _actor.Optimizer.Apply(actorLearningRate, ppo.MaxGradNorm) : _actor.Optimizer.ReadStatistics();

        var values = SequenceScorer.Values(_critic.Model, batch, _critic.Tape).PerRow;
        using (var oldValues = PerRow(rollouts.Values, values.Value))
        using (var returns = PerRow(rollouts.Returns, values.Value))
        using (var valueSeed = backend.Allocate(values.Value.Shape, backend.FloatType))
        {
            backend.PpoValueLoss(values.Value, oldValues, returns, targets, new PpoLossSettings(ppo.CliprangeValue, ppo.VfCoef, miniBatchTokens), valueSeed,
                _critic.Optimizer.LossSum, _critic.Optimizer.StepStatistics);
            _critic.Tape.Backward((values, valueSeed));
        }
        var critic = _critic.Optimizer.Apply(learningRates.Critic, ppo.MaxGradNorm);

        statistics.Add(actor.Statistics, critic.Statistics, miniBatchTokens);
        return (learningRates.Actor is null || actor.Updated) && critic.Updated;
    }

    private void SaveCheckpoint(string directory)
    {
        _actor.Save(ActorOf(directory), _tokenizerFiles);
        _critic.Save(Path.Combine(directory, CriticDirectoryName), _tokenizerFiles);
        new PpoState(_loop.Step, _actor.Optimizer.Step, _critic.Optimizer.Step, _prompts.Position, _loop.SkippedSteps, _loop.ConsecutiveNonFinite,
            _kl, _lengthLimit, _scoreMoments, _fingerprint).Save(directory);
    }

    private static Models LoadModels(RunSpec<PpoTrainingOptions> spec, Backend backend, TrainableModel actor, TrainableModel critic)
    {
        var options = spec.Options;
        // The reference and the reward model only run forward: no gradients, no tape, no optimizer.
        var reference = MistralCheckpoint.LoadModel(options.ReferenceDirectory ?? spec.ModelDirectory, backend);
        var rewardModel = MistralCheckpoint.LoadSequenceClassifier(options.RewardModelDirectory, backend);
        if (!rewardModel.Config.IsSequenceClassifier || rewardModel.Parameters[MistralParameterNames.ScoreHead] is null)
            throw new InvalidDataException($"{options.RewardModelDirectory} is not a reward model");
        return new Models(actor, critic, reference, rewardModel);
    }

    /// <summary>The prompts, tokenized; a rollout at the largest length limit must fit the model's positions, found before any model loads.</summary>
    private static (ShuffledEpochs<PpoPrompt> Prompts, string Fingerprint) LoadPrompts(RunSpec<PpoTrainingOptions> spec, TokenizerFiles tokenizerFiles,
        MistralConfig config, DataPosition position)
    {
        var prompts = ReadPrompts(spec.DataPath, tokenizerFiles.CreateTokenizer());
        if (spec.Options.Reward == RewardSource.AnswerChecker && prompts.FirstOrDefault(p => p.Answer is null) is { } uncheckable)
            throw new InvalidDataException($"{spec.DataPath}: the answer checker is the reward, but prompt {prompts.IndexOf(uncheckable) + 1} has no checkable reference answer");
        config.RequirePositions((long)prompts.Max(p => p.Ids.Length) + spec.Options.Ppo.ContinuousMaximization.MaxLengthLimit,
            $"{spec.DataPath}: the longest prompt plus the largest length limit (--max-length-limit)");
        return (new ShuffledEpochs<PpoPrompt>(prompts, position), TrainerState.Fingerprint(prompts.Select(p => p.Ids)));
    }

    /// <summary>{"prompt"} or {"prompt","response"} lines (the response's final answer, where it has one, checks rollouts), or {"text"}.</summary>
    private static List<PpoPrompt> ReadPrompts(string path, MistralTokenizer tokenizer)
    {
        var prompts = SftJsonlReader.Read(path).Select(example => example switch
        {
            PromptResponseExample pair => new PpoPrompt(tokenizer.Encode(pair.Prompt, addBos: true), Tasks.AnswerChecker.ExtractFinalAnswer(pair.Response)),
            TextExample text => new PpoPrompt(tokenizer.Encode(text.Text, addBos: true), null),
            _ => throw new InvalidDataException($"{path}: PPO prompts are {{\"prompt\"}} or {{\"text\"}} lines, not conversations"),
        }).ToList();
        return prompts.Count > 0 ? prompts : throw new InvalidDataException($"{path}: no prompts");
    }

    public void Dispose()
    {
        _actor.Dispose();
        _critic.Dispose();
        _reference.Dispose();
        _rewardModel.Dispose();
    }

    private sealed record Models(TrainableModel Actor, TrainableModel Critic, MistralModel Reference, MistralModel RewardModel);

    /// <summary>One iteration's rollouts and everything PPO computes from them before the updates, per token in the batch's layout.</summary>
    /// <param name="RewardModelScores">The reward model's raw score of each rollout, whatever the reward.</param>
    /// <param name="Correct">Whether each rollout's final answer is its prompt's reference answer; null unless every prompt has one.</param>
    private sealed record Rollouts(RolloutBatch Batch, bool[] EndsWithEos, double[] LogProbs, double[] Values, double[] Kl, TokenRewards Rewards,
        double[] Advantages, double[] Returns, double[] RewardModelScores, bool[]? Correct)
    {
        public static Rollouts Collect(PpoTrainer trainer, int iteration, CancellationToken cancellation)
        {
            var options = trainer._spec.Options;
            var ppo = options.Ppo;
            var share = trainer._share;
            // Every rank draws the whole batch's prompts, so the data position is the same on all; it rolls out its share.
            var prompts = Enumerable.Range(0, options.RolloutsPerIteration).Select(_ => trainer._prompts.Next()).ToArray();
            var mine = prompts.AsSpan(share.First, share.Count).ToArray().Select(p => p.Ids).ToArray();
            var sampling = new SamplingOptions(Temperature: (float)ppo.Temperature, Seed: unchecked(options.Seed * 1_000_003 + iteration), FirstSequence: share.First);
            var generated = new Generator(trainer._actor.Model).Generate(mine, trainer._lengthLimit.LengthLimit, sampling, cancellation: cancellation);
            var local = new RolloutBatch(mine, generated.Select(g => g.Tokens).ToList(), trainer._tokenizer.EosId);
            // The four models score the share where they are, and the host reads the four results in one wait.
            var read = trainer._actor.Backend.ToDoubles([SequenceScorer.LogProbs(trainer._actor.Model, local, tape: null).PerRow.Value,
                SequenceScorer.LogProbs(trainer._reference, local, tape: null).PerRow.Value, SequenceScorer.Values(trainer._critic.Model, local, tape: null).PerRow.Value,
                SequenceScorer.ScoreRows(trainer._rewardModel, local)]);
            var (logProbs, referenceLogProbs, values, rewardModelScores) = (local.ResponseValues(read[0]), local.ResponseValues(read[1]), local.ResponseValues(read[2]),
                read[3]);
            var endsWithEos = generated.Select(g => g.FinishReason == FinishReason.EndOfSequence).ToArray();

            var batch = local;
            if (trainer._communicator.Size > 1)
            {
                batch = new RolloutBatch(prompts.Select(p => p.Ids).ToArray(), share.GatherResponses(local.Responses), trainer._tokenizer.EosId);
                (logProbs, referenceLogProbs, values) = (share.Gather(logProbs, local.Layout, batch.Layout),
                    share.Gather(referenceLogProbs, local.Layout, batch.Layout), share.Gather(values, local.Layout, batch.Layout));
                (rewardModelScores, endsWithEos) = (share.Gather(rewardModelScores), share.Gather(endsWithEos));
            }
            bool[]? correct = prompts.All(p => p.Answer is not null)
                ? prompts.Zip(batch.Responses, (p, r) => Tasks.AnswerChecker.IsCorrect(trainer._tokenizer.Decode(r), p.Answer!.Value)).ToArray()
                : null;
            var scores = options.Reward == RewardSource.AnswerChecker ? correct!.Select(c => c ? 1.0 : 0.0).ToArray() : rewardModelScores;
            if (ppo.NormalizeScores)
            {
                trainer._scoreMoments = trainer._scoreMoments.Add(scores);
                scores = trainer._scoreMoments.Standardize(scores);
            }
            var kl = KlEstimate.Tokens(ppo.KlEstimator, batch.Layout, logProbs, referenceLogProbs);
            var rewards = TokenRewards.Compute(batch.Layout, kl, scores, endsWithEos, trainer._kl.Coefficient, ppo.MissingEosPenalty, ppo.WhitenRewards);
            var advantages = GeneralizedAdvantages.Compute(batch.Layout, rewards.Rewards, values, ppo.Gamma, ppo.Lam);
            var whitened = (double[])advantages.Advantages.Clone();
            MaskedWhitening.WhitenInPlace(batch.Layout, whitened);
            return new Rollouts(batch, endsWithEos, logProbs, values, kl, rewards, whitened, advantages.Returns, rewardModelScores, correct);
        }
    }
}
