namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>One operation of a problem as the prompt states it: "+ 5" or "- 3".</summary>
public readonly record struct ChainStep(ChainOperator Operator, int Operand);
