using Mistral.C2F.Rlhf.Pipeline;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>One measured effect behind a claim: a difference per seed, its mean and 95 % interval, and whether it passes.</summary>
/// <param name="Passes">The effect's interval lies where the claim needs it (above zero, or above the stated margin).</param>
/// <param name="IsShare">The effect is a difference of shares (accuracy, idle sentences), which the report shows in points.</param>
public sealed record ClaimTest(string Measure, Interval Effect, bool Passes, bool IsShare);

/// <summary>A claim of the method with its tests; it holds when every test passes (a reported-only item has none).</summary>
public sealed record Claim(string Id, string Statement, IReadOnlyList<ClaimTest> Tests)
{
    public bool Holds => Tests.Count > 0 && Tests.All(t => t.Passes);
}

/// <summary>
/// The method's claims, measured over seeds on the held-out prompts. Each effect is a difference between two models of the
/// same seed (paired), summarised by its mean and Student's 95 % interval; an effect passes when its interval excludes zero
/// on the claimed side. Redundancy is the idle-sentence rate (<see cref="IdleSentences"/>).
/// </summary>
public static class Claims
{
    /// <summary>"At least as good": the accuracy difference's interval must lie above this (two points).</summary>
    public const double NonInferiorityMargin = -0.02;

    public static IReadOnlyList<Claim> Evaluate(IReadOnlyList<PipelineReportInput> seeds)
    {
        var claims = new List<Claim>();
        bool ablations = seeds.All(s => s.Stages.Any(stage => stage.Name == PipelineStages.FixedAtStart));
        if (ablations)
        {
            claims.Add(new Claim("a", "Continuous Maximization beats the fixed limit L₀ (CM switched off) on reward-model score and on accuracy",
                [Better(seeds, "RM score", Score, PipelineStages.Coarse, PipelineStages.FixedAtStart), Better(seeds, "accuracy", Accuracy, PipelineStages.Coarse, PipelineStages.FixedAtStart, share: true)]));
            claims.Add(new Claim("a′", "beside (a): Continuous Maximization against the limit fixed at L_max from the start",
                [Better(seeds, "RM score", Score, PipelineStages.Coarse, PipelineStages.FixedAtMax), Better(seeds, "accuracy", Accuracy, PipelineStages.Coarse, PipelineStages.FixedAtMax, share: true)]));
        }
        claims.Add(new Claim("b", "the coarse actor is longer and more redundant than the instruction model",
            [Better(seeds, "length", Length, PipelineStages.Coarse, PipelineStages.Instruct), Better(seeds, "idle sentences", Idle, PipelineStages.Coarse, PipelineStages.Instruct, share: true)]));
        claims.Add(new Claim("c", "the Fine Actor (KRM, no refinement SFT) is more accurate than the instruction model, with redundancy nearer the instruction model's than the coarse actor's and length below the coarse actor's",
        [
            Better(seeds, "accuracy", Accuracy, PipelineStages.Fine, PipelineStages.Instruct, share: true),
            Test(seeds, "idle sentences: (coarse + instruct) / 2 − fine", s => (Idle(s.Stage(PipelineStages.Coarse)) + Idle(s.Stage(PipelineStages.Instruct))) / 2 - Idle(s.Stage(PipelineStages.Fine)), 0, share: true),
            Better(seeds, "length below the coarse actor's", Length, PipelineStages.Coarse, PipelineStages.Fine),
        ]));
        claims.Add(new Claim("d", $"trim refinement is at least as good as none and as DARE (accuracy, margin {-NonInferiorityMargin:P0})",
        [
            Test(seeds, "accuracy: trim − none", s => Accuracy(s.Stage(PipelineStages.Fine)) - Accuracy(s.Stage(PipelineStages.FineNone)), NonInferiorityMargin, share: true),
            Test(seeds, "accuracy: trim − DARE", s => Accuracy(s.Stage(PipelineStages.Fine)) - Accuracy(s.Stage(PipelineStages.FineDare)), NonInferiorityMargin, share: true),
        ]));
        return claims;
    }

    public static double Accuracy(StageMetrics m) => m.Responses.Accuracy;
    public static double Score(StageMetrics m) => m.RewardScoreMean ?? double.NaN;
    public static double Length(StageMetrics m) => m.Responses.MeanLengthTokens;
    public static double Idle(StageMetrics m) => m.Responses.IdleSentenceRate;

    /// <summary>better − worse on a metric, per seed; passes when the interval lies above zero.</summary>
    private static ClaimTest Better(IReadOnlyList<PipelineReportInput> seeds, string measure, Func<StageMetrics, double> metric, string better, string worse,
        bool share = false) =>
        Test(seeds, $"{measure}: {better} − {worse}", s => metric(s.Stage(better)) - metric(s.Stage(worse)), 0, share);

    private static ClaimTest Test(IReadOnlyList<PipelineReportInput> seeds, string measure, Func<PipelineReportInput, double> effect, double threshold,
        bool share = false)
    {
        var interval = Interval.Of(seeds.Select(effect).ToList());
        return new ClaimTest(measure, interval, interval.Low > threshold, share);
    }
}
