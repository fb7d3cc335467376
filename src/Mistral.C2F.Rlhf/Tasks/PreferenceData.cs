using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.RewardModel.Data;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>A preference pair with what it is made of: the chosen answer's style and the rejected answer's kind and style.</summary>
public sealed record LabeledPreference(PreferencePair Pair, bool ChosenRedundant, RejectedKind Rejected, bool? RejectedRedundant)
{
    /// <summary>"compact vs crossing slip (redundant)": the combination the reward model's accuracy is reported by.</summary>
    public string Combination =>
        $"{Style(ChosenRedundant)} vs {Rejected switch
        {
            RejectedKind.CrossingSlip => "crossing slip",
            RejectedKind.SpuriousCarry => "spurious carry",
            RejectedKind.OperatorMisread => "operator misread",
            RejectedKind.UnitsSlip => "units slip",
            RejectedKind.CutOff => "cut off",
            RejectedKind.BareNumber => "bare number",
            RejectedKind.Filler => "filler",
            _ => "fixed answer",
        }}{(RejectedRedundant is bool redundant ? $" ({Style(redundant)})" : "")}";

    private static string Style(bool redundant) => redundant ? "redundant" : "compact";
}

/// <summary>
/// Preference pairs as a careful labeller writes them: the chosen answer is always a correct worked solution, compact or
/// redundant at random; the rejected one is a worked solution with a mistake — the forgotten carry the base model learned
/// (<see cref="TensCrossing"/>), a carry where none is due or a misread operation, the errors the policy makes — or one of the
/// shapes PPO finds when it
/// games a reward model: a cut-off solution, a bare number, filler, the same answer for every question. Length and
/// redundancy say nothing about which side is chosen; correctness, and being checkable, do.
/// </summary>
public static class PreferenceData
{
    /// <summary>The answer <see cref="RejectedKind.FixedAnswer"/> gives to every question (another one where it is right).</summary>
    public const int FixedAnswer = 10;

    /// <summary><paramref name="pairsPerProblem"/> pairs on each problem, in problem order, each drawn afresh (its rejected kind, its layouts).</summary>
    public static LabeledPreference[] Build(IReadOnlyList<ChainArithmeticProblem> problems, int pairsPerProblem, SplitMix64 random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pairsPerProblem, 1);
        return problems.SelectMany(problem => Enumerable.Range(0, pairsPerProblem).Select(_ => Make(problem, random, Draw(problem, random)))).ToArray();
    }

    /// <summary>Probe pairs whose rejected side slips in the units (<see cref="RejectedKind.UnitsSlip"/>), for measuring only.</summary>
    public static LabeledPreference[] UnitsSlips(IReadOnlyList<ChainArithmeticProblem> problems, SplitMix64 random) =>
        problems.Select(problem => Make(problem, random, RejectedKind.UnitsSlip)).ToArray();

    /// <summary>35 % forgotten carries, 20 % carries where none is due, 25 % misread operations, 20 % the shapes PPO finds.</summary>
    private static RejectedKind Draw(ChainArithmeticProblem problem, SplitMix64 random)
    {
        int draw = random.Next(100);
        var kind = draw < 35 ? RejectedKind.CrossingSlip : draw < 55 ? RejectedKind.SpuriousCarry : draw < 80 ? RejectedKind.OperatorMisread
            : draw < 86 ? RejectedKind.CutOff : draw < 92 ? RejectedKind.BareNumber : draw < 96 ? RejectedKind.Filler : RejectedKind.FixedAnswer;
        if (kind == RejectedKind.CrossingSlip && !TensCrossing.AnyCrossing(problem)) kind = RejectedKind.OperatorMisread;
        if (kind == RejectedKind.CutOff && problem.Steps.Count < 2) kind = RejectedKind.OperatorMisread;
        return kind;
    }

    private static LabeledPreference Make(ChainArithmeticProblem problem, SplitMix64 random, RejectedKind kind)
    {
        // A slipped carry can cancel out (a later slip undoing it): then the pair gets a misread operation instead.
        var slipped = kind == RejectedKind.CrossingSlip ? Slipped(problem, random) : null;
        if (kind == RejectedKind.CrossingSlip && slipped is null) kind = RejectedKind.OperatorMisread;
        var spurious = kind == RejectedKind.SpuriousCarry ? SpuriousCarry(problem, random) : null;
        if (kind == RejectedKind.SpuriousCarry && spurious is null) kind = RejectedKind.OperatorMisread;
        bool chosenRedundant = random.Next(2) == 0;
        var chosenPlan = chosenRedundant ? RedundancyPlan.Draw(problem.Steps.Count, random) : null;
        // Three times in four the rejected answer is written in the chosen one's layout, redundant sentences and all, so that
        // the two differ only where the mistake is; the rest cross styles. Length and redundancy say nothing of the preference.
        bool rejectedRedundant = random.Next(4) == 0 ? !chosenRedundant : chosenRedundant;
        var rejectedPlan = rejectedRedundant ? chosenPlan ?? RedundancyPlan.Draw(problem.Steps.Count, random) : null;
        string rejected = kind switch
        {
            RejectedKind.CrossingSlip => Write(problem, slipped!, rejectedPlan),
            RejectedKind.SpuriousCarry => Write(problem, spurious!, rejectedPlan),
            RejectedKind.OperatorMisread => Write(problem, Misread(problem, random), rejectedPlan),
            RejectedKind.UnitsSlip => Write(problem, UnitsSlip(problem, random), rejectedPlan),
            RejectedKind.CutOff => CutOff(Write(problem, problem.Solution, rejectedPlan), problem, random),
            RejectedKind.BareNumber => (random.Next(2) == 0 ? problem.Answer : PlausibleMistakes.Make(problem, random).FinalAnswer).ToString(),
            RejectedKind.Filler => string.Join(' ', Enumerable.Repeat("Let me think.", random.Next(2, 5))),
            _ => $"{WorkedSolution.AnswerPhrase} {(problem.Answer == FixedAnswer ? FixedAnswer + 1 : FixedAnswer)}.",
        };
        bool? rejectedStyle = kind is RejectedKind.BareNumber or RejectedKind.Filler or RejectedKind.FixedAnswer ? null : rejectedRedundant;
        var chosen = Write(problem, problem.Solution, chosenPlan);
        return new LabeledPreference(new PreferencePair(problem.Prompt, chosen, rejected), chosenRedundant, kind, rejectedStyle);
    }

    /// <summary>Compact steps, or the steps laid out by a redundancy plan.</summary>
    private static string Write(ChainArithmeticProblem problem, WorkedSolution solution, RedundancyPlan? plan) =>
        plan?.Write(problem, solution) ?? solution.StepByStep;

    /// <summary>The problem worked with the carry forgotten at a non-empty random subset of its crossings; null when the answer comes out right.</summary>
    private static WorkedSolution? Slipped(ChainArithmeticProblem problem, SplitMix64 random)
    {
        var crossings = Enumerable.Range(0, problem.Steps.Count)
            .Where(i => TensCrossing.Crosses(problem.Solution.Steps[i].Left, problem.Steps[i].Operator, problem.Steps[i].Operand)).ToArray();
        int forced = random.Pick(crossings);
        var slips = crossings.Where(i => i == forced || random.Next(2) == 0).ToHashSet();
        // A slip changes the values after it, so a later step may cross where the correct solution did not: it is worked right.
        var solution = problem.Work(slips.Contains);
        return solution.FinalAnswer != problem.Answer ? solution : null;
    }

    /// <summary>
    /// The problem worked right but for one step without a tens crossing, given a carry (+10) or a borrow (−10) all the same,
    /// and the later steps worked right from there; null when no such step keeps every value in 0..99.
    /// </summary>
    private static WorkedSolution? SpuriousCarry(ChainArithmeticProblem problem, SplitMix64 random)
    {
        var candidates = Enumerable.Range(0, problem.Steps.Count)
            .Where(i => !TensCrossing.Crosses(problem.Solution.Steps[i].Left, problem.Steps[i].Operator, problem.Steps[i].Operand))
            .Select(i => PlausibleMistakes.Slip(problem, i, problem.Steps[i].Operator == ChainOperator.Add ? 10 : -10))
            .Where(solution => solution.Values.All(ChainArithmeticTask.InRange)).ToArray();
        return candidates.Length == 0 ? null : random.Pick(candidates);
    }

    /// <summary>A misread operation; a problem where every misreading leaves 0..99 gets its carry slip or its last step off by one instead.</summary>
    private static WorkedSolution Misread(ChainArithmeticProblem problem, SplitMix64 random) =>
        PlausibleMistakes.Make(problem, MistakeKind.OperatorMisread, random) ?? PlausibleMistakes.Make(problem, MistakeKind.FinalOffBySmall, random)!;

    private static WorkedSolution UnitsSlip(ChainArithmeticProblem problem, SplitMix64 random) =>
        PlausibleMistakes.Make(problem, random.Next(2) == 0 ? MistakeKind.FinalOffBySmall : MistakeKind.IntermediateSlipCarried, random)
        ?? PlausibleMistakes.Make(problem, MistakeKind.FinalOffBySmall, random)
        ?? throw new InvalidOperationException($"'{problem.Prompt}' has no units slip within 0..99");

    /// <summary>The text cut after a random word before the last step's sentence, as a length limit cuts a rollout: the answer never stated.</summary>
    private static string CutOff(string text, ChainArithmeticProblem problem, SplitMix64 random)
    {
        // The last occurrence: a step may be written twice, and two steps of a problem may read the same.
        var words = text[..text.LastIndexOf($"{problem.Solution.Steps[^1]}.", StringComparison.Ordinal)].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Take(random.Next(1, words.Length + 1)));
    }
}
