using Mistral.C2F.Engine.Determinism;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>The ways a worked solution grows without getting any more right: what the redundancy metrics must see.</summary>
public enum RedundancyKind
{
    /// <summary>"We need 7+5-3." before the steps.</summary>
    RestatedQuestion,
    /// <summary>A step written twice in a row.</summary>
    RepeatedStep,
    /// <summary>"Check: 12-3=9." after the steps: the last step again.</summary>
    CheckedStep,
    /// <summary>"Let me think." before the steps.</summary>
    Filler,
    /// <summary>"So the answer is 9." after the answer.</summary>
    RestatedAnswer,
}

/// <summary>
/// Which redundant sentences a worked solution gets and where: drawn once, it can write the same layout around two
/// solutions, so that a preference pair differs only where one of them goes wrong.
/// </summary>
/// <param name="RepeatedStep">The step written twice, when <see cref="RedundancyKind.RepeatedStep"/> is among the kinds.</param>
public sealed record RedundancyPlan(IReadOnlyCollection<RedundancyKind> Kinds, int RepeatedStep)
{
    /// <summary>Every solution the base model reads in this style checks its last step: frequent enough that a greedy decoder does it too.</summary>
    public static readonly RedundancyKind Always = RedundancyKind.CheckedStep;

    /// <summary>The checked step and, with probability ½, one more kind of redundancy.</summary>
    public static RedundancyPlan Draw(int steps, SplitMix64 random)
    {
        var kinds = new List<RedundancyKind> { Always };
        if (random.Next(2) == 0) kinds.Add(random.Pick([RedundancyKind.RestatedQuestion, RedundancyKind.RepeatedStep, RedundancyKind.Filler, RedundancyKind.RestatedAnswer]));
        return Of(kinds, steps, random);
    }

    public static RedundancyPlan Of(IReadOnlyCollection<RedundancyKind> kinds, int steps, SplitMix64 random) => new(kinds, random.Next(steps));

    public string Write(ChainArithmeticProblem problem, WorkedSolution solution)
    {
        var sentences = new List<string>();
        if (Kinds.Contains(RedundancyKind.Filler)) sentences.Add("Let me think.");
        if (Kinds.Contains(RedundancyKind.RestatedQuestion)) sentences.Add($"We need {problem.Expression}.");
        for (int i = 0; i < solution.Steps.Count; i++)
        {
            sentences.Add($"{solution.Steps[i]}.");
            if (i == RepeatedStep && Kinds.Contains(RedundancyKind.RepeatedStep)) sentences.Add($"{solution.Steps[i]}.");
        }
        if (Kinds.Contains(RedundancyKind.CheckedStep)) sentences.Add($"Check: {solution.Steps[^1]}.");
        sentences.Add($"{WorkedSolution.AnswerPhrase} {solution.FinalAnswer}.");
        if (Kinds.Contains(RedundancyKind.RestatedAnswer)) sentences.Add($"So the answer is {solution.FinalAnswer}.");
        return string.Join(' ', sentences);
    }
}
