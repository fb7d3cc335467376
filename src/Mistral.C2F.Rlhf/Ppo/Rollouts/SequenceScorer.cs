using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Rlhf.Ppo.Rollouts;

/// <summary>
/// What the four PPO models say about a rollout batch, per response token or per sequence: log-probabilities (actor,
/// reference), entropy, values (critic) and reward-model scores. With a tape, the result stays connected for a backward.
/// </summary>
public static class SequenceScorer
{
    /// <param name="PerRow">One value per row of the batch's tokens, on the device; only the predicting rows mean anything.</param>
    /// <remarks><see cref="RolloutBatch.ResponseValues"/> turns the rows, read back, into the batch's per-token layout.</remarks>
    public sealed record Scored(Variable PerRow, Variable? Entropy);

    /// <summary>Log-probabilities of the response tokens (and optionally the entropy of each predicting row).</summary>
    public static Scored LogProbs(MistralModel model, RolloutBatch batch, Tape? tape, bool withEntropy = false)
    {
        var inputs = Inputs(model, batch);
        try
        {
            var logits = tape is null ? Variable.Constant("logits", model.Forward(inputs.Tokens, inputs.Positions, layout: AttentionLayout.Sequences))
                : model.Forward(tape, inputs.Tokens, inputs.Positions, layout: AttentionLayout.Sequences);
            var (logProbs, entropy) = model.Ops(tape).TokenLogProbs(logits, inputs.Targets, withEntropy);
            return new Scored(logProbs, entropy);
        }
        finally
        {
            Release(inputs, tape);
        }
    }

    /// <summary>A sequence classifier's output at every row (the critic's values), read at the predicting rows.</summary>
    public static Scored Values(MistralModel critic, RolloutBatch batch, Tape? tape)
    {
        var inputs = Inputs(critic, batch);
        try
        {
            var values = tape is null ? Variable.Constant("values", critic.Forward(inputs.Tokens, inputs.Positions, layout: AttentionLayout.Sequences))
                : critic.Forward(tape, inputs.Tokens, inputs.Positions, layout: AttentionLayout.Sequences);
            return new Scored(values, null);
        }
        finally
        {
            Release(inputs, tape);
        }
    }

    /// <summary>A reward model's score of each sequence, read at its last real token.</summary>
    public static double[] Scores(MistralModel rewardModel, RolloutBatch batch) => rewardModel.Backend.ToDoubles(ScoreRows(rewardModel, batch));

    /// <summary>The scores of <see cref="Scores"/> left where the model is (in its workspace, until its next forward pass).</summary>
    public static Tensor ScoreRows(MistralModel rewardModel, RolloutBatch batch)
    {
        using var inputs = Inputs(rewardModel, batch);
        using var last = rewardModel.Backend.FromInts(batch.LastTokenRows(), batch.Count);
        return rewardModel.Forward(inputs.Tokens, inputs.Positions, logitRows: last, layout: AttentionLayout.Sequences);
    }

    private static InputTensors Inputs(MistralModel model, RolloutBatch batch) => new(
        model.Backend.FromInts(batch.Tokens, batch.Count, batch.Length),
        model.Backend.FromInts(batch.Positions, batch.Count, batch.Length),
        model.Backend.FromInts(batch.ResponseTargets, batch.Count * batch.Length));

    // A recording tape's backward still reads the inputs (the targets), so it owns them until it has run.
    private static void Release(InputTensors inputs, Tape? tape)
    {
        if (tape is null) inputs.Dispose();
        else tape.Own(inputs);
    }

    private sealed record InputTensors(Tensor Tokens, Tensor Positions, Tensor Targets) : IDisposable
    {
        public void Dispose()
        {
            Tokens.Dispose();
            Positions.Dispose();
            Targets.Dispose();
        }
    }
}
