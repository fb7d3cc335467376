namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>The operations of a chain-arithmetic problem: only + and −, so every value stays a small whole number.</summary>
public enum ChainOperator
{
    Add,
    Subtract,
}

public static class ChainOperatorExtensions
{
    public static string Symbol(this ChainOperator op) => op switch
    {
        ChainOperator.Add => "+",
        ChainOperator.Subtract => "-",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    public static int Apply(this ChainOperator op, int left, int operand) => op switch
    {
        ChainOperator.Add => left + operand,
        ChainOperator.Subtract => left - operand,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    public static ChainOperator Flipped(this ChainOperator op) =>
        op == ChainOperator.Add ? ChainOperator.Subtract : ChainOperator.Add;
}
