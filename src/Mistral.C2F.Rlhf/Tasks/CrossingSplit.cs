namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// A right step across a tens boundary written the careful way, through the round ten: 17+5 as "17+3=20. 20+2=22" and 23-5
/// as "23-3=20. 20-2=18" — the operand split into what reaches the ten and the rest. Two easy steps instead of one hard
/// one: the longer answer that is right more often, growth by useful steps beside the redundant ones
/// (<see cref="RedundancyPlan"/>). A step that starts or ends on the round ten, crosses none, or is wrong is written as it
/// is. (Writing the split itself too, "3+2=5.", put 4 % of the longest texts past the 96 tokens the reward model reads.)
/// </summary>
public static class CrossingSplit
{
    /// <summary>The equations the step is written as, in order; one, the step itself, unless it splits.</summary>
    public static IReadOnlyList<string> Equations(SolutionStep step)
    {
        var (left, op, operand, result) = step;
        if (result != op.Apply(left, operand) || !TensCrossing.Crosses(left, op, operand)) return [step.ToString()];
        int units = left % 10, toTen = op == ChainOperator.Add ? 10 - units : units, ten = op.Apply(left, toTen), rest = operand - toTen;
        if (toTen <= 0 || rest <= 0) return [step.ToString()];
        string symbol = op.Symbol();
        return [$"{left}{symbol}{toTen}={ten}", $"{ten}{symbol}{rest}={result}"];
    }

    /// <summary>The step's sentences without their last full stop: "17+5=22", or "17+3=20. 20+2=22" when it splits.</summary>
    public static string Write(SolutionStep step, bool split) => split ? string.Join(". ", Equations(step)) : step.ToString();

    /// <summary>The last equation the step writes: what a check of it restates.</summary>
    public static string LastEquation(SolutionStep step, bool split) => split ? Equations(step)[^1] : step.ToString();
}
