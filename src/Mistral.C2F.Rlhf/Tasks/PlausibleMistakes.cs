using Mistral.C2F.Engine.Determinism;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// Wrong worked solutions that look like a learner's: one slip (<see cref="MistakeKind"/>) and everything after it done
/// right. A wrong solution always ends at a wrong answer and keeps every value it writes in 0..99, like a right one.
/// </summary>
public static class PlausibleMistakes
{
    private const int MaxSlip = 3;

    /// <summary>A wrong solution of the given kind, or null when the problem has none (a one-step problem cannot slip early).</summary>
    public static WorkedSolution? Make(ChainArithmeticProblem problem, MistakeKind kind, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(random);
        var candidates = Candidates(problem, kind).Where(solution => IsPlausible(problem, solution)).ToArray();
        return candidates.Length == 0 ? null : random.Pick(candidates);
    }

    /// <summary>
    /// A wrong solution of a kind drawn at random. Ending off by one is always possible (answers are at most 56 by the
    /// generator's ranges), so this never fails for a generated problem.
    /// </summary>
    public static WorkedSolution Make(ChainArithmeticProblem problem, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var kinds = Enum.GetValues<MistakeKind>();
        random.Shuffle(kinds.AsSpan());
        return kinds.Select(kind => Make(problem, kind, random)).FirstOrDefault(solution => solution is not null)
               ?? throw new ArgumentException($"'{problem.Prompt}' has no plausible wrong solution.", nameof(problem));
    }

    private static IEnumerable<WorkedSolution> Candidates(ChainArithmeticProblem problem, MistakeKind kind)
    {
        int last = problem.Steps.Count - 1;
        return kind switch
        {
            MistakeKind.FinalOffBySmall => Slips().Select(slip => Solve(problem, last, slip, misread: false)),
            MistakeKind.IntermediateSlipCarried => Enumerable.Range(0, last)
                .SelectMany(step => Slips().Select(slip => Solve(problem, step, slip, misread: false))),
            MistakeKind.OperatorMisread => Enumerable.Range(0, last + 1).Select(step => Solve(problem, step, slip: 0, misread: true)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    /// <summary>The problem worked right but for step <paramref name="step"/>, whose result is off by <paramref name="slip"/>; the later steps start from it.</summary>
    public static WorkedSolution Slip(ChainArithmeticProblem problem, int step, int slip) => Solve(problem, step, slip, misread: false);

    private static IEnumerable<int> Slips() => Enumerable.Range(1, MaxSlip).SelectMany(size => new[] { -size, size });

    /// <summary>Works the problem, going wrong once at <paramref name="wrongStep"/> and correctly after it.</summary>
    private static WorkedSolution Solve(ChainArithmeticProblem problem, int wrongStep, int slip, bool misread)
    {
        var steps = new List<SolutionStep>(problem.Steps.Count);
        int value = problem.Start;
        for (int i = 0; i < problem.Steps.Count; i++)
        {
            var (op, operand) = problem.Steps[i];
            if (i == wrongStep && misread) op = op.Flipped();
            int result = op.Apply(value, operand) + (i == wrongStep ? slip : 0);
            steps.Add(new SolutionStep(value, op, operand, result));
            value = result;
        }
        return new WorkedSolution(steps);
    }

    private static bool IsPlausible(ChainArithmeticProblem problem, WorkedSolution solution) =>
        solution.FinalAnswer != problem.Answer && solution.Values.All(ChainArithmeticTask.InRange);
}
