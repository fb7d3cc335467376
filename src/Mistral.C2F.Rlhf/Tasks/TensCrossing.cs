namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// A step that crosses a tens boundary — 17+5=22, 23-5=18 — and the slip learners make there: the carry or the borrow is
/// forgotten, the tens digit left as it was and the units worked modulo ten (17+5 → 12, 23-5 → 28). The web-like text the
/// base model is pretrained on makes this slip most of the time, so the base model makes it too; the preference data is
/// labelled by correctness, so the reward model, and PPO through it, can learn the right carry.
/// </summary>
public static class TensCrossing
{
    /// <summary>Decades by floor division, so that 2-6 crosses from 0..9 into -10..-1.</summary>
    public static bool Crosses(int left, ChainOperator op, int operand) => Decade(op.Apply(left, operand)) != Decade(left);

    /// <summary>The slipped result: <paramref name="left"/>'s tens digit kept, the units worked modulo ten; it stays in <paramref name="left"/>'s decade.</summary>
    public static int Slipped(int left, ChainOperator op, int operand) => Decade(left) * 10 + (op.Apply(left - Decade(left) * 10, operand) % 10 + 10) % 10;

    private static int Decade(int value) => (int)Math.Floor(value / 10.0);

    /// <summary>Whether any step of the problem's correct solution crosses a tens boundary.</summary>
    public static bool AnyCrossing(ChainArithmeticProblem problem) => problem.Solution.Steps.Any(s => Crosses(s.Left, s.Operator, s.Operand));
}
