using System.Diagnostics;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Data;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Training;

namespace Mistral.C2F.Rlhf.Sft;

/// <summary>
/// Supervised fine-tuning: packed next-token batches, gradient accumulation, clipping, AdamW with warmup and
/// cosine decay, checkpoints every N steps (weights in float32, optimizer moments, data position) from which
/// <see cref="Resume"/> continues bit for bit; non-finite steps are skipped and counted, too many in a row stop the run.
/// Data-parallel: every rank reads the same batches in the same order and runs micro-batches rank, rank + N, … of each;
/// each divides its loss by the whole batch's token count, so the gradients the optimizer sums are the whole batch's.
/// </summary>
public sealed class SftTrainer : SingleModelTrainer<SftOptions, SftDataLoader, SftStepMetrics>
{
    private SftTrainer(TrainableModel model, SftDataLoader data, RunSpec<SftOptions> spec, string runDirectory, TokenizerFiles tokenizer,
        string fingerprint, TrainerState? resumed, ICommunicator? communicator)
        : base(model, data, spec, runDirectory, tokenizer, fingerprint, resumed, communicator)
    {
    }

    /// <summary>Test seam: called after the backward pass of a step, with the step and the accumulated gradients.</summary>
    internal Action<int, IReadOnlyDictionary<string, Tensor>>? AfterBackward { get; set; }

    /// <summary>Test seam: fills a gradient with NaN, as a blown-up step would.</summary>
    internal void Poison(Tensor gradient)
    {
        var nan = new float[gradient.ElementCount];
        Array.Fill(nan, float.NaN);
        Model.Backend.Upload(nan, gradient);
    }

    /// <summary>Starts a new run in <paramref name="runDirectory"/>, which must not hold checkpoints yet.</summary>
    /// <param name="communicator">The ranks of a data-parallel job (every rank calls Start alike); null: one process.</param>
    public static SftTrainer Start(RunSpec<SftOptions> spec, string runDirectory, Backend backend, ICommunicator? communicator = null)
    {
        spec.Options.Validate();
        RequireShares(spec.Options, communicator);
        RunDirectories.RequireNoCheckpoints(runDirectory);
        RequireFits(MistralCheckpoint.LoadConfig(spec.ModelDirectory), spec.Options, backend);
        var tokenizer = TokenizerFiles.Read(spec.ModelDirectory);
        var (data, fingerprint) = LoadData(spec, tokenizer, DataPosition.Start(spec.Options.Seed));
        var model = TrainableModel.Load(spec.ModelDirectory, backend, spec.Options.Optimizer, communicator: communicator);
        Directory.CreateDirectory(runDirectory);
        if (communicator?.IsRoot ?? true) spec.Save(runDirectory);
        return new SftTrainer(model, data, spec, runDirectory, tokenizer, fingerprint, resumed: null, communicator);
    }

    /// <summary>Continues the run in <paramref name="runDirectory"/> from its latest checkpoint, optionally with changed options (a new step count, say).</summary>
    public static SftTrainer Resume(string runDirectory, Backend backend, Func<SftOptions, SftOptions>? change = null, ICommunicator? communicator = null)
    {
        var spec = RunSpec<SftOptions>.Resumed(runDirectory, change);
        RequireShares(spec.Options, communicator);
        var checkpoint = RunDirectories.LatestCheckpoint(runDirectory);
        RequireFits(MistralCheckpoint.LoadConfig(checkpoint), spec.Options, backend);
        var state = TrainerState.Load(checkpoint);
        var tokenizer = RunDirectories.ResumedTokenizer(checkpoint, spec.ModelDirectory);
        var (data, fingerprint) = LoadData(spec, tokenizer, state.DataPosition);
        RunDirectories.RequireSameData(spec.DataPath, checkpoint, fingerprint, state.DataFingerprint);
        var model = TrainableModel.Load(checkpoint, backend, spec.Options.Optimizer, state.OptimizerStep, communicator);
        return new SftTrainer(model, data, spec, runDirectory, tokenizer, fingerprint, state, communicator);
    }

    /// <summary>Sequences the model has positions for, and a micro-batch whose activations fit the backend's memory: checked before any data is read.</summary>
    public static void RequireFits(MistralConfig config, SftOptions options, Backend backend)
    {
        config.RequirePositions(options.SequenceLength, "the sequence length (--seq)");
        ActivationMemory.RequireFits(config, (double)options.MicroBatchSize * options.SequenceLength, backend, "the micro-batch (--micro-batch × --seq)");
    }

    private static void RequireShares(SftOptions options, ICommunicator? communicator) =>
        RequireShares(options.AccumulationSteps, $"micro-batch(es) (--batch {options.BatchSize} / --micro-batch {options.MicroBatchSize})", communicator);

    protected override SftStepMetrics TrainStep(int step)
    {
        var options = Options;
        var clock = Stopwatch.StartNew();
        double learningRate = options.Schedule.At(step);
        var batches = Enumerable.Range(0, options.AccumulationSteps).Select(_ => Data.NextBatch()).ToList();
        int lossTokens = batches.Sum(b => b.LossTokenCount);
        var share = batches.Where((_, i) => i % Communicator.Size == Communicator.Rank);
        foreach (var batch in lossTokens > 0 ? share : [])
            CausalLmLoss.ForwardBackward(Model.Model, Model.Tape,
                new CausalLmLoss.Batch(batch.Tokens, batch.Targets, batch.BatchSize, batch.SequenceLength), lossTokens, Model.Optimizer.LossSum);
        AfterBackward?.Invoke(step, Model.Gradients);

        var outcome = Model.Optimizer.Apply(learningRate, options.MaxGradNorm, lossIsFinite: lossTokens > 0);
        double loss = lossTokens > 0 ? outcome.LossSum / lossTokens : double.NaN;
        // A batch without loss tokens is not a sign of divergence, only a step without an update.
        return new SftStepMetrics(step, options.Steps, loss, learningRate, outcome.GradientNorm,
            options.BatchSize * options.SequenceLength / clock.Elapsed.TotalSeconds, lossTokens, Skipped: !outcome.Updated,
            NonFinite: !outcome.Updated && lossTokens > 0, Data.Epochs);
    }

    private static (SftDataLoader Data, string Fingerprint) LoadData(RunSpec<SftOptions> spec, TokenizerFiles tokenizerFiles, DataPosition position)
    {
        var tokenizer = tokenizerFiles.CreateTokenizer();
        var exampleTokenizer = new SftExampleTokenizer(tokenizer);
        var examples = SftExampleFilter.Fitting(SftJsonlReader.Read(spec.DataPath).Select(e => (e, exampleTokenizer.Tokenize(e))),
            spec.Options.SequenceLength, spec.DataPath);
        var packed = SequencePacker.Pack(examples, spec.Options.SequenceLength, tokenizer.EosId);
        return (new SftDataLoader(packed, spec.Options.MicroBatchSize, position), TrainerState.Fingerprint(packed.SelectMany(p => new[] { p.Inputs, p.Targets })));
    }
}
