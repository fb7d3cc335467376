using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Ppo;
using Mistral.C2F.Rlhf.RewardModel.Data;

namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>Scores of a preference batch and the Bradley–Terry loss, forward and backward through the reward model.</summary>
public static class RewardScoring
{
    public sealed record Result(double Loss, double Accuracy, double[] Chosen, double[] Rejected);

    /// <summary>Reads each row's reward at its last real token, and backpropagates the mean Bradley–Terry loss of the pairs.</summary>
    /// <param name="batchPairs">As for <see cref="BradleyTerryLoss.Compute"/>: the whole batch's pairs when <paramref name="batch"/> is a rank's share.</param>
    public static Result ForwardBackward(TrainableModel model, PreferenceBatch batch, int? batchPairs = null)
    {
        var backend = model.Backend;
        int rows = 2 * batch.Pairs;
        using var tokens = backend.FromInts(batch.Tokens, rows, batch.Length);
        using var positions = backend.FromInts(batch.Positions, rows, batch.Length);
        using var last = backend.FromInts(batch.LastTokens, rows);
        var scores = model.Model.Forward(model.Tape, tokens, positions, last, AttentionLayout.Sequences);
        var rewards = backend.ToDoubles(scores.Value);
        var (chosen, rejected) = (rewards[..batch.Pairs], rewards[batch.Pairs..]);
        var bt = BradleyTerryLoss.Compute(chosen, rejected, batch.Margins, batchPairs);

        using var seed = backend.Allocate(scores.Value.Shape, backend.FloatType);
        backend.Upload([.. bt.ChosenGradient, .. bt.RejectedGradient], seed);
        model.Tape.Backward((scores, seed));
        return new Result(bt.Loss, bt.Accuracy, chosen, rejected);
    }
}
