namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>The names of the pipeline's models in the report, and of its PPO runs: the claims refer to them.</summary>
public static class PipelineStages
{
    public const string Base = "base";
    public const string Instruct = "instruct";
    public const string Coarse = "coarse actor (CM)";
    public const string FixedAtStart = "coarse actor (fixed limit L₀)";
    public const string FixedAtMax = "coarse actor (fixed limit L_max)";
    public const string Verifiable = "coarse actor (CM, answer-checker reward)";
    public const string Fine = "fine actor (KRM trim)";
    public const string FineNone = "fine actor (KRM none)";
    public const string FineDare = "fine actor (KRM dare)";
    public const string FineRefined = "fine actor (KRM trim) + refinement SFT";
}
