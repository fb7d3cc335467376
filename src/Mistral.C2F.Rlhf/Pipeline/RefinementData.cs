using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Pipeline;

/// <summary>
/// Data for the optional refinement SFT of the Fine Actor: the Coarse Actor's greedy answers to training prompts with
/// their redundant spans removed (<see cref="RedundantSpans"/>), kept only when the final answer is right, since the
/// task's answers are checkable and training on wrong ones would teach them.
/// </summary>
public static class RefinementData
{
    public static List<PromptResponseExample> Build(MistralModel coarseActor, MistralTokenizer tokenizer, IReadOnlyList<PromptResponseExample> prompts,
        int maxNewTokens, CancellationToken cancellation, int batchSize = Generator.PromptsPerCall)
    {
        var generator = new Generator(coarseActor);
        var examples = new List<PromptResponseExample>();
        foreach (var chunk in prompts.Chunk(batchSize))
        {
            var results = generator.Generate(chunk.Select(p => tokenizer.Encode(p.Prompt, addBos: true)).ToArray(), maxNewTokens, new SamplingOptions(),
                cancellation: cancellation);
            for (int i = 0; i < chunk.Length; i++)
            {
                var response = RedundantSpans.Remove(tokenizer.Decode(results[i].Tokens));
                if (response.Length > 0 && AnswerChecker.ExtractFinalAnswer(chunk[i].Response) is int expected && AnswerChecker.IsCorrect(response, expected))
                    examples.Add(new PromptResponseExample(chunk[i].Prompt, response));
            }
        }
        return examples;
    }
}
