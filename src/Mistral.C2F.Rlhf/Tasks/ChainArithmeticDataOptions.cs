namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// How many examples each chain-arithmetic dataset holds, and the seeds: the training seed draws every training
/// problem, the evaluation seed the held-out ones. Defaults suit the tiny preset (a ~1M-parameter model, 2 CPU cores).
/// </summary>
public sealed record ChainArithmeticDataOptions
{
    public int PretrainingCount { get; init; } = 8192;
    public int SftCount { get; init; } = 2048;
    public int PreferenceCount { get; init; } = 2048;
    public int PpoPromptCount { get; init; } = 1024;
    public int EvaluationCount { get; init; } = 256;
    public int HeldOutTextCount { get; init; } = 256;
    public int TrainingSeed { get; init; } = 0xC2F1;
    public int EvaluationSeed { get; init; } = 0xE7A1;
}
