namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>The plausible ways a wrong solution of a chain-arithmetic problem goes wrong.</summary>
public enum MistakeKind
{
    /// <summary>Every step right but the last, whose result is off by 1 to 3: a final answer off by a little.</summary>
    FinalOffBySmall,

    /// <summary>An earlier step's result is off by 1 to 3 and the later steps carry the wrong value through correctly.</summary>
    IntermediateSlipCarried,

    /// <summary>One operation is misread (+ for −, or − for +) and the rest is carried through correctly.</summary>
    OperatorMisread,
}
