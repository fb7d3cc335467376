namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// Everything measured for one model of the pipeline: what its responses show (<see cref="ResponseMetrics"/>) and the
/// figures that need a model, passed in by the caller.
/// </summary>
/// <param name="RewardScoreMean">Mean reward-model score of the responses; null when not scored.</param>
/// <param name="Perplexity">Perplexity on the held-out text, exp(mean token negative log-likelihood); null when not measured.</param>
public sealed record StageMetrics(ResponseMetrics Responses, double? RewardScoreMean, double? Perplexity);
