using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Ppo.Rollouts;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Evaluation;

/// <summary>How often a reward model ranks the chosen answer above the rejected one, overall and by combination of styles and kinds.</summary>
public sealed record RewardModelAccuracy(int Pairs, double Accuracy, IReadOnlyList<(string Combination, int Pairs, double Accuracy)> ByCombination);

/// <summary>
/// Measures a reward model on preference pairs it never trained on: each side scored as training scores it (BOS, prompt,
/// response, EOS; the score read at the last token), a pair counted right when the chosen side scores higher.
/// </summary>
public static class RewardModelEvaluation
{
    public static RewardModelAccuracy Accuracy(MistralModel rewardModel, MistralTokenizer tokenizer, IReadOnlyList<LabeledPreference> pairs, int batchSize = 32)
    {
        if (pairs.Count == 0) throw new ArgumentException("no preference pairs to measure the reward model on", nameof(pairs));
        var encoder = new SftExampleTokenizer(tokenizer);
        var right = new bool[pairs.Count];
        for (int start = 0; start < pairs.Count; start += batchSize)
        {
            var chunk = pairs.Skip(start).Take(batchSize).ToList();
            var sides = chunk.Select(p => p.Pair.Chosen).Concat(chunk.Select(p => p.Pair.Rejected))
                .Zip(chunk.Concat(chunk), (response, p) => encoder.Tokenize(new PromptResponseExample(p.Pair.Prompt, response))).ToList();
            int promptLength(TokenizedExample e) => Array.IndexOf(e.LossMask, true);
            var batch = new RolloutBatch(sides.Select(e => e.Ids[..promptLength(e)]).ToList(), sides.Select(e => e.Ids[promptLength(e)..]).ToList(), tokenizer.EosId);
            var scores = SequenceScorer.Scores(rewardModel, batch);
            for (int i = 0; i < chunk.Count; i++) right[start + i] = scores[i] > scores[chunk.Count + i];
        }
        var byCombination = pairs.Select((p, i) => (p.Combination, Right: right[i])).GroupBy(x => x.Combination)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(), g.Average(x => x.Right ? 1.0 : 0.0))).ToList();
        return new RewardModelAccuracy(pairs.Count, right.Average(r => r ? 1.0 : 0.0), byCombination);
    }
}
