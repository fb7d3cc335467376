using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Ppo.Rollouts;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// A model's sampled answers (temperature 1, as PPO samples) to prompts with reference answers: their lengths, whether each
/// is right, and what a reward model scores them — how the pipeline sets L₀ and measures the reward model before PPO.
/// </summary>
public sealed class BaseSamples
{
    private readonly int[][] _prompts;

    private BaseSamples(int[][] prompts, int[][] responses, bool[] correct, bool[] workedRight, int[] lengths, bool[] showsWork) =>
        (_prompts, Responses, Correct, WorkedRight, Lengths, ShowsWork) = (prompts, responses, correct, workedRight, lengths, showsWork);

    public IReadOnlyList<bool> Correct { get; }

    /// <summary>Right, and every step written right (<see cref="WrittenEquation.AllRight"/>): not right by luck.</summary>
    public IReadOnlyList<bool> WorkedRight { get; }

    /// <summary>Share of the right answers that write a wrong step; null when none is right.</summary>
    public double? LuckyShare => ShareRightByLuck(Correct, WorkedRight);

    internal static double? ShareRightByLuck(IReadOnlyList<bool> correct, IReadOnlyList<bool> workedRight)
    {
        int right = correct.Count(c => c);
        return right == 0 ? null : (double)(right - workedRight.Count(w => w)) / right;
    }

    /// <summary>Generated tokens per answer, EOS not counted; an answer cut at the limit counts as the limit.</summary>
    public IReadOnlyList<int> Lengths { get; }

    /// <summary>Whether each answer writes an equation (<see cref="IdleSentences.ShowsWork"/>).</summary>
    public IReadOnlyList<bool> ShowsWork { get; }

    /// <param name="promptsPerCall">Prompts decoded together; the answers do not depend on it (each is sampled as answer
    /// number i of the whole draw, <see cref="SamplingOptions.FirstSequence"/>), only the time does.</param>
    public static BaseSamples Draw(MistralModel model, MistralTokenizer tokenizer, IReadOnlyList<PromptResponseExample> prompts, int maxNewTokens,
        int seed, CancellationToken cancellation, int promptsPerCall = Generator.PromptsPerCall)
    {
        var ids = prompts.Select(p => tokenizer.Encode(p.Prompt, addBos: true)).ToArray();
        var generator = new Generator(model);
        var results = new List<GenerationResult>();
        foreach (var chunk in ids.Chunk(promptsPerCall))
            results.AddRange(generator.Generate(chunk, maxNewTokens, new SamplingOptions(Temperature: 1f, Seed: seed, FirstSequence: results.Count), cancellation: cancellation));
        var texts = results.Select(r => tokenizer.Decode(r.Tokens)).ToArray();
        var correct = prompts.Zip(texts, (p, text) => AnswerChecker.ExtractFinalAnswer(p.Response) is int answer && AnswerChecker.IsCorrect(text, answer)).ToArray();
        var lengths = results.Select(r => r.Tokens.Length - (r.FinishReason == FinishReason.EndOfSequence ? 1 : 0)).ToArray();
        var workedRight = correct.Select((right, i) => right && WrittenEquation.AllRight(texts[i])).ToArray();
        return new BaseSamples(ids, results.Select(r => r.Tokens).ToArray(), correct, workedRight, lengths, texts.Select(IdleSentences.ShowsWork).ToArray());
    }

    /// <summary>The sampled tokens of every answer, EOS included where the answer ended with it.</summary>
    public IReadOnlyList<int[]> Responses { get; }

    /// <summary>The reward model's score of every answer, read as PPO reads it.</summary>
    public double[] Score(MistralModel rewardModel, MistralTokenizer tokenizer) =>
        _prompts.Zip(Responses).Chunk(32).SelectMany(chunk =>
            SequenceScorer.Scores(rewardModel, new RolloutBatch(chunk.Select(c => c.First).ToArray(), chunk.Select(c => c.Second).ToArray(), tokenizer.EosId))).ToArray();
}
