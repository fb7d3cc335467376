using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Ppo.Rollouts;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>
/// Evaluates one model on held-out prompts with checkable answers: greedy responses (BOS + prompt, as the SFT data
/// is laid out), their accuracy, length, EOS rate and redundancy, the reward model's mean score, and perplexity on
/// held-out text.
/// </summary>
/// <param name="batchSize">Answers the reward model scores in one pass.</param>
/// <param name="generationBatch">Prompts answered in one call of the generator.</param>
public sealed class StageEvaluator(MistralTokenizer tokenizer, int maxNewTokens, int batchSize = 32, int generationBatch = Generator.PromptsPerCall)
{
    public sealed record Result(StageMetrics Metrics, IReadOnlyList<GeneratedResponse> Responses);

    public Result Evaluate(MistralModel policy, IReadOnlyList<PromptResponseExample> prompts, MistralModel? rewardModel,
        IReadOnlyList<TextExample>? heldOutText, CancellationToken cancellation = default)
    {
        var expected = prompts.Select((p, i) => AnswerChecker.ExtractFinalAnswer(p.Response)
            ?? throw new InvalidDataException($"evaluation prompt {i} has no checkable reference answer: \"{p.Response}\"")).ToArray();
        var promptIds = prompts.Select(p => tokenizer.Encode(p.Prompt, addBos: true)).ToArray();
        var generated = Generate(policy, promptIds, cancellation);
        var responses = generated.Select(g => new GeneratedResponse(tokenizer.Decode(g.Tokens),
            g.Tokens.Length - (g.FinishReason == FinishReason.EndOfSequence ? 1 : 0), g.FinishReason == FinishReason.EndOfSequence)).ToList();
        double? score = rewardModel is null ? null : MeanScore(rewardModel, promptIds, generated);
        double? perplexity = heldOutText is null ? null : Perplexity(policy, heldOutText);
        return new Result(new StageMetrics(ResponseMetrics.Compute(responses, expected), score, perplexity), responses);
    }

    private List<GenerationResult> Generate(MistralModel policy, int[][] prompts, CancellationToken cancellation)
    {
        var generator = new Generator(policy);
        var results = new List<GenerationResult>();
        foreach (var chunk in prompts.Chunk(generationBatch))
            results.AddRange(generator.Generate(chunk, maxNewTokens, new SamplingOptions(), cancellation: cancellation));
        return results;
    }

    private double MeanScore(MistralModel rewardModel, int[][] prompts, List<GenerationResult> generated)
    {
        double total = 0;
        for (int start = 0; start < prompts.Length; start += batchSize)
        {
            int count = Math.Min(batchSize, prompts.Length - start);
            var batch = new RolloutBatch(prompts[start..(start + count)], generated.Skip(start).Take(count).Select(g => g.Tokens).ToList(), tokenizer.EosId);
            total += SequenceScorer.Scores(rewardModel, batch).Sum();
        }
        return total / prompts.Length;
    }

    /// <summary>exp of the mean next-token negative log-likelihood over BOS + text + EOS of every held-out text.</summary>
    private double Perplexity(MistralModel model, IReadOnlyList<TextExample> texts)
    {
        double loss = 0;
        long tokens = 0;
        foreach (var text in texts)
        {
            int[] ids = [.. tokenizer.Encode(text.Text, addBos: true), tokenizer.EosId];
            var batch = CausalLmLoss.Batch.NextTokens([ids]);
            loss += CausalLmLoss.Forward(model, batch);
            tokens += batch.LossTokens;
        }
        return Math.Exp(loss / tokens);
    }
}
