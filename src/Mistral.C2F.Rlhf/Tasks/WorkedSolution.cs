namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// A solution written out step by step, right or wrong; each step starts from the previous step's result, so a mistake
/// is carried through to the end. It is rendered in the two answer styles of the task.
/// </summary>
public sealed record WorkedSolution
{
    public const string AnswerPhrase = "The answer is";

    public WorkedSolution(IReadOnlyList<SolutionStep> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("A solution needs at least one step.", nameof(steps));
        for (int i = 1; i < steps.Count; i++)
            if (steps[i].Left != steps[i - 1].Result)
                throw new ArgumentException($"Step {i} starts from {steps[i].Left}, not from the previous result {steps[i - 1].Result}.", nameof(steps));
        Steps = steps;
    }

    public IReadOnlyList<SolutionStep> Steps { get; }

    public int FinalAnswer => Steps[^1].Result;

    /// <summary>The bare final number, "17".</summary>
    public string Concise => FinalAnswer.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>"7+5=12. 12-3=9. 9+8=17. The answer is 17."</summary>
    public string StepByStep => string.Concat(Steps.Select(step => $"{step}. ")) + $"{AnswerPhrase} {FinalAnswer}.";

    /// <summary>Every value written down, from the first step's left operand to the final answer.</summary>
    public IEnumerable<int> Values => Steps.Take(1).Select(step => step.Left).Concat(Steps.Select(step => step.Result));
}
