using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.RewardModel.Data;

namespace Mistral.C2F.Rlhf.RewardModel;

/// <summary>Scores of a preference batch and the Bradley–Terry loss, forward and backward through the reward model, on the device.</summary>
public static class RewardScoring
{
    /// <summary>
    /// Reads each row's reward at its last real token and backpropagates the Bradley–Terry loss of the pairs
    /// (<see cref="Backend.BradleyTerry"/>): the summed loss goes to the optimizer's <see cref="AdamWOptimizer.LossSum"/>
    /// and the sums its step logs to <see cref="AdamWOptimizer.StepStatistics"/> (<see cref="BradleyTerryStatistics.Count"/>
    /// of them), so nothing is read back before the optimizer's one wait. Returns the scores, chosen then rejected, valid
    /// until the tape is cleared.
    /// </summary>
    /// <param name="centering">The pull of each pair's score sum to zero (<see cref="RewardModelOptions.CenterRewardsCoefficient"/>).</param>
    /// <param name="batchPairs">The whole batch's pairs (the gradient is that of their mean) when <paramref name="batch"/> is a rank's share.</param>
    public static Tensor ForwardBackward(TrainableModel model, PreferenceBatch batch, double centering, int? batchPairs = null)
    {
        var backend = model.Backend;
        int rows = 2 * batch.Pairs;
        using var tokens = backend.FromInts(batch.Tokens, rows, batch.Length);
        using var positions = backend.FromInts(batch.Positions, rows, batch.Length);
        using var last = backend.FromInts(batch.LastTokens, rows);
        using var margins = backend.Allocate(new Shape(batch.Pairs), backend.FloatType);
        backend.Upload(batch.Margins, margins);
        var scores = model.Model.Forward(model.Tape, tokens, positions, last, AttentionLayout.Sequences);
        using var seed = backend.Allocate(scores.Value.Shape, backend.FloatType);
        backend.BradleyTerry(scores.Value, margins, centering, batchPairs ?? batch.Pairs, seed, model.Optimizer.LossSum, model.Optimizer.StepStatistics);
        model.Tape.Backward((scores, seed));
        return scores.Value;
    }
}
