using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// Next-token cross-entropy: −Σ log p(target) over the positions whose target is not -1. The gradient of
/// each counted token is scaled by <c>1 / normalizer</c>, so several micro-batches normalised by the token
/// count of the whole batch accumulate exactly the gradient of one large batch.
/// </summary>
public static class CausalLmLoss
{
    /// <summary>Inputs [B, S] and targets [B, S] (the inputs shifted left by one, -1 where no loss is taken).</summary>
    public sealed record Batch(int[] Tokens, int[] Targets, int BatchSize, int Length)
    {
        public int LossTokens => Targets.Count(t => t >= 0);

        /// <summary>Every position predicts the next token of its row; the last position of each row has no target.</summary>
        public static Batch NextTokens(int[][] rows)
        {
            int length = rows[0].Length;
            if (rows.Any(r => r.Length != length)) throw new ArgumentException("rows must have equal lengths");
            var targets = rows.SelectMany(r => r.Skip(1).Append(-1)).ToArray();
            return new Batch(rows.SelectMany(r => r).ToArray(), targets, rows.Length, length);
        }
    }

    /// <summary>
    /// Runs forward and backward and adds the summed loss of the counted tokens to <paramref name="lossSum"/> (one element),
    /// on the device: the gradient seed is a constant (masked rows take no log-prob gradient), so nothing is read back.
    /// </summary>
    public static void ForwardBackward(MistralModel model, Tape tape, Batch batch, double normalizer, Tensor lossSum)
    {
        if (!(normalizer > 0)) throw new ArgumentException($"the loss normalizer must be positive, got {normalizer}");
        var backend = model.Backend;
        using var tokens = backend.FromInts(batch.Tokens, batch.BatchSize, batch.Length);
        using var positions = backend.FromInts(Positions(batch), batch.BatchSize, batch.Length);
        using var targets = backend.FromInts(batch.Targets, batch.Targets.Length);
        var logits = model.Forward(tape, tokens, positions, layout: AttentionLayout.Sequences);
        var (logProbs, _) = model.Ops(tape).TokenLogProbs(logits, targets, withEntropy: false);
        backend.AccumulateSum(logProbs.Value, -1, lossSum); // masked rows' log-probs are 0
        using var seed = backend.Allocate(logProbs.Value.Shape, backend.FloatType);
        backend.Fill(seed, -1.0 / normalizer);
        tape.Backward((logProbs, seed));
    }

    /// <summary>Runs forward and backward; returns the summed loss of the counted tokens (divide by their count for the mean). Waits for it on a device.</summary>
    public static double ForwardBackward(MistralModel model, Tape tape, Batch batch, double normalizer)
    {
        var backend = model.Backend;
        using var lossSum = backend.Allocate(new Shape(1), backend.FloatType);
        backend.Zero(lossSum);
        ForwardBackward(model, tape, batch, normalizer, lossSum);
        return backend.ToDoubles(lossSum)[0];
    }

    /// <summary>The summed loss of the counted tokens, without recording anything.</summary>
    public static double Forward(MistralModel model, Batch batch)
    {
        var backend = model.Backend;
        using var tokens = backend.FromInts(batch.Tokens, batch.BatchSize, batch.Length);
        using var positions = backend.FromInts(Positions(batch), batch.BatchSize, batch.Length);
        using var targets = backend.FromInts(batch.Targets, batch.Targets.Length);
        var logits = Variable.Constant("logits", model.Forward(tokens, positions, layout: AttentionLayout.Sequences));
        var (logProbs, _) = model.Ops(tape: null).TokenLogProbs(logits, targets, withEntropy: false);
        return -backend.ToDoubles(logProbs.Value).Sum();
    }

    private static int[] Positions(Batch batch) =>
        Enumerable.Range(0, batch.BatchSize).SelectMany(_ => Enumerable.Range(0, batch.Length)).ToArray();
}
