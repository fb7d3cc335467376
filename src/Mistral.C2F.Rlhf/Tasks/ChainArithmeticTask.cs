using Mistral.C2F.Engine.Determinism;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// Generates chain-arithmetic problems: a start value and two to four additions or subtractions of a single digit.
/// Doing all of them at once is hard for a tiny model, one at a time is easy (one digit onto a number below 100), so
/// writing the intermediate steps raises accuracy: the reason the pipeline uses this task. Every value of a correct
/// solution stays in 0..<see cref="MaxValue"/>, so answers are at most two digits. Up to four operations: a compact
/// worked answer to four (~44 tokens) is longer than the first length limit the base model's answers give (L₀ 32–35), so
/// a limit held there cuts useful steps, not only redundant ones. With three at most it cut only redundancy, and the
/// limit fixed at L₀ was about as accurate as Continuous Maximization (validation prompts of seeds 7 and 8:
/// docs/perf/pipeline-seed7-validation.md).
/// </summary>
public static class ChainArithmeticTask
{
    public const int MinOperations = 2;
    public const int MaxOperations = 4;
    public const int MaxStart = 20;
    public const int MinOperand = 1;
    public const int MaxOperand = 9;
    public const int MaxValue = 99;

    /// <summary>One problem drawn from the generator.</summary>
    public static ChainArithmeticProblem Next(SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int start = random.Next(MaxStart + 1), value = start;
        var steps = new ChainStep[random.Next(MinOperations, MaxOperations + 1)];
        for (int i = 0; i < steps.Length; i++)
        {
            int operand = random.Next(MinOperand, MaxOperand + 1);
            var op = random.Next(2) == 0 ? ChainOperator.Add : ChainOperator.Subtract;
            // A subtraction below zero (or an addition past MaxValue) becomes the other operation: values stay in range.
            if (!InRange(op.Apply(value, operand))) op = op.Flipped();
            steps[i] = new ChainStep(op, operand);
            value = op.Apply(value, operand);
        }
        return new ChainArithmeticProblem(start, steps);
    }

    /// <summary>
    /// <paramref name="count"/> different problems from <paramref name="seed"/>, none of them in
    /// <paramref name="excluded"/> (held-out sets exclude the training problems); the same arguments give the same list.
    /// </summary>
    /// <param name="accept">Only problems it accepts are drawn (the instruction data takes problems without a tens crossing).</param>
    public static IReadOnlyList<ChainArithmeticProblem> Distinct(int count, int seed, IReadOnlySet<ChainArithmeticProblem>? excluded = null,
        Func<ChainArithmeticProblem, bool>? accept = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new SplitMix64((ulong)(uint)seed);
        var seen = new HashSet<ChainArithmeticProblem>();
        var problems = new List<ChainArithmeticProblem>(count);
        // Over a hundred thousand problems exist; a bound on draws turns an impossible request into an error, not a hang.
        for (long draws = 0; problems.Count < count; draws++)
        {
            if (draws > 100L * count + 1000)
                throw new InvalidOperationException($"Could not draw {count} distinct problems from seed {seed}.");
            var problem = Next(random);
            if (excluded?.Contains(problem) != true && accept?.Invoke(problem) != false && seen.Add(problem)) problems.Add(problem);
        }
        return problems;
    }

    internal static bool InRange(int value) => value is >= 0 and <= MaxValue;
}
