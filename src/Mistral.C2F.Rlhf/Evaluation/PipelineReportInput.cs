namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>Everything one seed of the pipeline measured, for the report.</summary>
/// <param name="Stages">Every model on the held-out prompts, in table order.</param>
/// <param name="PpoRuns">The PPO runs (the first is the Coarse Actor), iteration by iteration.</param>
/// <param name="StartingLengthLimit">L₀, chosen from the base model's answer lengths.</param>
/// <param name="LambdaSweep">Validation accuracy of the Fine Actor at each λ: the choice of λ, made without the held-out set.</param>
/// <param name="ChosenLambda">The λ of the Fine Actor: the sweep's best on validation.</param>
public sealed record PipelineReportInput(
    int Seed,
    IReadOnlyList<StageRow> Stages,
    IReadOnlyList<PpoRunLog> PpoRuns,
    RewardModelReport RewardModel,
    int StartingLengthLimit,
    IReadOnlyList<(float Lambda, double ValidationAccuracy)> LambdaSweep,
    float ChosenLambda)
{
    public StageMetrics Stage(string name) =>
        Stages.FirstOrDefault(s => s.Name == name)?.Metrics ?? throw new KeyNotFoundException($"seed {Seed} has no stage '{name}'");
}
