namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// One written step of a worked solution, "12-3=9"; in a wrong solution the result (or the operator) may be wrong.
/// Written without spaces: the built-in tokenizer spends a "▁" token on every space before a number, and a four-step
/// solution with spaces would not fit the ~60 tokens a tiny model's sequences allow.
/// </summary>
public readonly record struct SolutionStep(int Left, ChainOperator Operator, int Operand, int Result)
{
    public override string ToString() => $"{Left}{Operator.Symbol()}{Operand}={Result}";
}
