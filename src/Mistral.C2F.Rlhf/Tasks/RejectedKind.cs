namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>What the rejected answer of a preference pair is: a worked solution with a mistake, or a shape PPO finds.</summary>
public enum RejectedKind
{
    /// <summary>Worked, with the carry or borrow forgotten at one or more tens crossings (<see cref="TensCrossing"/>).</summary>
    CrossingSlip,
    /// <summary>
    /// Worked, with a carry or borrow made at a step that crosses no tens boundary (17+2 → 29, 23-2 → 11): the
    /// over-correction PPO finds through a reward model that knows only that forgotten carries are wrong (seed 7, validation
    /// prompts: 256 rollouts a PPO iteration raised greedy carries from 3 to 41 % and cut right steps without a crossing from
    /// 98 to 84 %).
    /// </summary>
    SpuriousCarry,
    /// <summary>Worked, with one operation misread, + for − or − for + (<see cref="MistakeKind.OperatorMisread"/>).</summary>
    OperatorMisread,
    /// <summary>
    /// Worked, with one result off by 1 to 3 in its units (<see cref="MistakeKind.FinalOffBySmall"/>,
    /// <see cref="MistakeKind.IntermediateSlipCarried"/>): a probe only. The base model never writes such slips, and the tiny
    /// reward model does not learn to see them (45 % after 3000 steps), so it is measured on them but not trained on them.
    /// </summary>
    UnitsSlip,
    /// <summary>A correct solution cut off before its last step: no answer stated.</summary>
    CutOff,
    /// <summary>A bare number, right or wrong: nothing a reader can check.</summary>
    BareNumber,
    /// <summary>"Let me think." over and over, no answer.</summary>
    Filler,
    /// <summary>"The answer is 10." whatever the question.</summary>
    FixedAnswer,
}
