namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// "What is 7+5-3+8?": a start value and a chain of additions and subtractions, evaluated left to right. Its
/// correct <see cref="Solution"/> is computed here, so an answer can always be checked by recomputation.
/// </summary>
public sealed record ChainArithmeticProblem
{
    public ChainArithmeticProblem(int start, IReadOnlyList<ChainStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("A problem needs at least one operation.", nameof(steps));
        Start = start;
        Steps = steps;
        var written = new List<SolutionStep>(steps.Count);
        int value = start;
        foreach (var step in steps)
        {
            int result = step.Operator.Apply(value, step.Operand);
            written.Add(new SolutionStep(value, step.Operator, step.Operand, result));
            value = result;
        }
        Solution = new WorkedSolution(written);
    }

    public int Start { get; }
    public IReadOnlyList<ChainStep> Steps { get; }
    public WorkedSolution Solution { get; }

    public int Answer => Solution.FinalAnswer;

    /// <summary>
    /// The problem worked step by step, slipping (<see cref="TensCrossing.Slipped"/>) at each step that crosses a tens boundary
    /// and for which <paramref name="slipsAt"/> (given the step's index) says so; later steps work on from the slipped value.
    /// </summary>
    public WorkedSolution Work(Func<int, bool> slipsAt)
    {
        var written = new List<SolutionStep>(Steps.Count);
        int value = Start;
        for (int i = 0; i < Steps.Count; i++)
        {
            var (op, operand) = Steps[i];
            int result = TensCrossing.Crosses(value, op, operand) && slipsAt(i) ? TensCrossing.Slipped(value, op, operand) : op.Apply(value, operand);
            written.Add(new SolutionStep(value, op, operand, result));
            value = result;
        }
        return new WorkedSolution(written);
    }

    /// <summary>The question, in the words of the built-in corpus's arithmetic questions ("What is 12 plus 7?").</summary>
    public string Prompt => $"What is {Expression}?";

    /// <summary>"7+5-3+8".</summary>
    public string Expression => $"{Start}{string.Concat(Steps.Select(step => $"{step.Operator.Symbol()}{step.Operand}"))}";

    // Equality by the problem itself, not by the reference of its step list.
    public bool Equals(ChainArithmeticProblem? other) => other is not null && Prompt == other.Prompt;

    public override int GetHashCode() => Prompt.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Prompt;
}
