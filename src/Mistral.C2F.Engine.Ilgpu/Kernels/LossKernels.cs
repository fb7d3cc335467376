using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// The reward model's and PPO's losses where their inputs are (as kernels/bradley_terry.cu and ppo_losses.cu on CUDA):
/// one group walks the pairs or rows, writes the gradients, and adds the summed loss and the step's sums, taken in
/// float64 in a fixed order, to float totals left on the device; <see cref="BradleyTerryStatistics"/> and
/// <see cref="PpoLosses"/> define them.
/// </summary>
internal sealed class LossKernels(KernelLaunch launch)
{
    private static readonly KernelConfig OneGroup = new(1, KernelLaunch.MaxGroupSize);

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, PairScalars, ArrayView<float>, ArrayView<float>, ArrayView<float>> _bradleyTerry =
        launch.Load<ArrayView<float>, ArrayView<float>, PairScalars, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BradleyTerryKernel);
    private readonly Action<KernelConfig, PolicyInputs, Scalars, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _policy =
        launch.Load<PolicyInputs, Scalars, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(PolicyKernel);
    private readonly Action<KernelConfig, ValueInputs, Scalars, ArrayView<float>, ArrayView<float>, ArrayView<float>> _value =
        launch.Load<ValueInputs, Scalars, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ValueKernel);

    /// <summary>What the policy loss reads per row.</summary>
    internal readonly struct PolicyInputs(ArrayView<float> logProbs, ArrayView<float> entropy, ArrayView<float> oldLogProbs, ArrayView<float> advantages,
        ArrayView<int> targets)
    {
        public readonly ArrayView<float> LogProbs = logProbs, Entropy = entropy, OldLogProbs = oldLogProbs, Advantages = advantages;
        public readonly ArrayView<int> Targets = targets;
    }

    /// <summary>What the value loss reads per row.</summary>
    internal readonly struct ValueInputs(ArrayView<float> values, ArrayView<float> oldValues, ArrayView<float> returns, ArrayView<int> targets)
    {
        public readonly ArrayView<float> Values = values, OldValues = oldValues, Returns = returns;
        public readonly ArrayView<int> Targets = targets;
    }

    internal readonly struct PairScalars(double centering, double gradientPairs)
    {
        public readonly double Centering = centering, GradientPairs = gradientPairs;
    }

    internal readonly struct Scalars(PpoLossSettings settings)
    {
        public readonly double Clip = settings.Clip, Coefficient = settings.Coefficient, Tokens = settings.Tokens;
    }

    public void BradleyTerry(ArrayView<float> scores, ArrayView<float> margins, double centering, double gradientPairs, ArrayView<float> gradient,
        ArrayView<float> lossSum, ArrayView<float> statistics) =>
        _bradleyTerry(OneGroup, scores, margins, new PairScalars(centering, gradientPairs), gradient, lossSum, statistics);

    public void Policy(PolicyInputs inputs, PpoLossSettings settings, ArrayView<float> logProbGradient, ArrayView<float> entropyGradient, ArrayView<float> lossSum,
        ArrayView<float> statistics) => _policy(OneGroup, inputs, new Scalars(settings), logProbGradient, entropyGradient, lossSum, statistics);

    public void Value(ValueInputs inputs, PpoLossSettings settings, ArrayView<float> valueGradient, ArrayView<float> lossSum, ArrayView<float> statistics) =>
        _value(OneGroup, inputs, new Scalars(settings), valueGradient, lossSum, statistics);

    private static void BradleyTerryKernel(ArrayView<float> scores, ArrayView<float> margins, PairScalars s, ArrayView<float> gradient,
        ArrayView<float> lossSum, ArrayView<float> statistics)
    {
        long pairs = margins.Length;
        double loss = 0, correct = 0, chosenSum = 0, rejectedSum = 0, squares = 0;
        for (long i = Group.IdxX; i < pairs; i += Group.DimX)
        {
            double chosen = scores[i], rejected = scores[pairs + i], d = chosen - rejected - margins[i], level = chosen + rejected;
            // softplus(−d) and σ(−d) with the exponent kept ≤ 0: no overflow at any gap.
            double e = Math.Exp(-Math.Abs(d));
            loss += Math.Max(-d, 0.0) + Math.Log(1 + e) + s.Centering * level * level;
            double sigmoidOfNegative = d >= 0 ? e / (1 + e) : 1 / (1 + e), pull = 2 * s.Centering * level;
            gradient[i] = (float)((pull - sigmoidOfNegative) / s.GradientPairs);
            gradient[pairs + i] = (float)((pull + sigmoidOfNegative) / s.GradientPairs);
            correct += chosen > rejected ? 1 : 0;
            chosenSum += chosen;
            rejectedSum += rejected;
            squares += chosen * chosen + rejected * rejected;
        }
        loss = ReductionKernels.GroupSum(loss);
        correct = ReductionKernels.GroupSum(correct);
        chosenSum = ReductionKernels.GroupSum(chosenSum);
        rejectedSum = ReductionKernels.GroupSum(rejectedSum);
        squares = ReductionKernels.GroupSum(squares);
        if (!Group.IsFirstThread) return;
        AddToTotal(lossSum, 0, loss);
        AddToTotal(statistics, BradleyTerryStatistics.Correct, correct);
        AddToTotal(statistics, BradleyTerryStatistics.ChosenSum, chosenSum);
        AddToTotal(statistics, BradleyTerryStatistics.RejectedSum, rejectedSum);
        AddToTotal(statistics, BradleyTerryStatistics.SquareSum, squares);
    }

    private static void PolicyKernel(PolicyInputs x, Scalars s, ArrayView<float> logProbGradient, ArrayView<float> entropyGradient, ArrayView<float> lossSum,
        ArrayView<float> statistics)
    {
        double surrogate = 0, clippedRows = 0, squaredLogRatios = 0, ratios = 0, entropies = 0;
        for (long i = Group.IdxX; i < x.Targets.Length; i += Group.DimX)
        {
            if (x.Targets[i] < 0)
            {
                logProbGradient[i] = 0;
                entropyGradient[i] = 0;
                continue;
            }
            double logRatio = (double)x.LogProbs[i] - x.OldLogProbs[i], ratio = Math.Exp(logRatio), advantage = x.Advantages[i];
            double unclipped = -advantage * ratio, clipped = -advantage * Math.Min(Math.Max(ratio, 1 - s.Clip), 1 + s.Clip);
            if (clipped > unclipped)
            {
                surrogate += clipped;
                clippedRows += 1;
                logProbGradient[i] = 0;
            }
            else
            {
                surrogate += unclipped;
                logProbGradient[i] = (float)(unclipped / s.Tokens);
            }
            squaredLogRatios += logRatio * logRatio;
            ratios += ratio;
            entropies += x.Entropy[i];
            entropyGradient[i] = (float)(-s.Coefficient / s.Tokens);
        }
        surrogate = ReductionKernels.GroupSum(surrogate);
        clippedRows = ReductionKernels.GroupSum(clippedRows);
        squaredLogRatios = ReductionKernels.GroupSum(squaredLogRatios);
        ratios = ReductionKernels.GroupSum(ratios);
        entropies = ReductionKernels.GroupSum(entropies);
        if (!Group.IsFirstThread) return;
        AddToTotal(lossSum, 0, surrogate - s.Coefficient * entropies);
        AddToTotal(statistics, PpoLosses.PolicySum, surrogate);
        AddToTotal(statistics, PpoLosses.PolicyClipped, clippedRows);
        AddToTotal(statistics, PpoLosses.SquaredLogRatioSum, squaredLogRatios);
        AddToTotal(statistics, PpoLosses.RatioSum, ratios);
        AddToTotal(statistics, PpoLosses.EntropySum, entropies);
    }

    private static void ValueKernel(ValueInputs x, Scalars s, ArrayView<float> valueGradient, ArrayView<float> lossSum, ArrayView<float> statistics)
    {
        double squaredErrors = 0, clippedRows = 0;
        for (long i = Group.IdxX; i < x.Targets.Length; i += Group.DimX)
        {
            if (x.Targets[i] < 0)
            {
                valueGradient[i] = 0;
                continue;
            }
            double value = x.Values[i], oldValue = x.OldValues[i], target = x.Returns[i];
            double error = value - target;
            // A clamp of V, not V_old + clip(V − V_old): inside the range it is V itself, so it never passes for a binding clip.
            double clippedError = Math.Min(Math.Max(value, oldValue - s.Clip), oldValue + s.Clip) - target;
            if (clippedError * clippedError > error * error)
            {
                squaredErrors += clippedError * clippedError;
                clippedRows += 1;
                valueGradient[i] = 0;
            }
            else
            {
                squaredErrors += error * error;
                valueGradient[i] = (float)(s.Coefficient * error / s.Tokens);
            }
        }
        squaredErrors = ReductionKernels.GroupSum(squaredErrors);
        clippedRows = ReductionKernels.GroupSum(clippedRows);
        if (!Group.IsFirstThread) return;
        AddToTotal(lossSum, 0, s.Coefficient * 0.5 * squaredErrors);
        AddToTotal(statistics, PpoLosses.SquaredErrorSum, squaredErrors);
        AddToTotal(statistics, PpoLosses.ValueClipped, clippedRows);
    }

    /// <summary>totals[index] += value, added in float64 and rounded to float.</summary>
    private static void AddToTotal(ArrayView<float> totals, int index, double value) => totals[index] = (float)(totals[index] + value);
}
