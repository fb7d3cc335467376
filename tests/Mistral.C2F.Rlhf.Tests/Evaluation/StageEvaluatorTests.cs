using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Evaluation;

[Trait("Backend", "cpu")]
public sealed class StageEvaluatorTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void A_random_model_is_evaluated_end_to_end_with_a_perplexity_near_its_vocabulary()
    {
        var path = TinyCheckpoint.Write(Path.Combine(_directory.Path, "model"));
        using var backend = new CpuBackend(2);
        using var policy = MistralCheckpoint.LoadModel(path, backend);
        using var rewardModel = MistralCheckpoint.LoadSequenceClassifier(path, backend);
        var evaluator = new StageEvaluator(MistralTokenizer.Load(path), maxNewTokens: 6, batchSize: 3, generationBatch: 3);
        PromptResponseExample[] prompts = [new("What is 1+2?", "3"), new("What is 7-5?", "2"), new("What is 9+9-3?", "15"), new("What is 4+4?", "8")];

        var result = evaluator.Evaluate(policy, prompts, rewardModel, [new TextExample("What is 1+2? 3"), new TextExample("What is 2+2? 4")],
            TestContext.Current.CancellationToken);

        Assert.Equal(4, result.Responses.Count);
        Assert.All(result.Responses, r => Assert.InRange(r.TokenCount, r.EndedWithEos ? 0 : 6, 6));
        Assert.Equal(0, result.Metrics.RewardScoreMean); // the converted reward model's head is zero
        // Random weights with std 0.02 give near-uniform predictions: perplexity close to the 768-token vocabulary.
        Assert.InRange(result.Metrics.Perplexity!.Value, 600, 950);
    }
}
