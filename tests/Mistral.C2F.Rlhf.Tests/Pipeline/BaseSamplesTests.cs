using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Pipeline;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Pipeline;

/// <summary>The base model's sampled answers, from which L₀ is chosen and the reward model is measured, are one draw per seed.</summary>
[Trait("Backend", "cpu")]
public sealed class BaseSamplesTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void The_answers_do_not_depend_on_how_many_prompts_are_decoded_together()
    {
        int seed = Environment.TickCount & 0xFFFF;
        var path = TinyCheckpoint.Write(Path.Combine(_directory.Path, "model"), seed);
        using var backend = new CpuBackend(2);
        using var model = MistralCheckpoint.LoadModel(path, backend);
        var tokenizer = MistralTokenizer.Load(path);
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, 48).Select(_ => (A: random.Next(1, 30), B: random.Next(1, 30)))
            .Select(p => new PromptResponseExample($"What is {p.A}+{p.B}?", $"{p.A}+{p.B}={p.A + p.B}. The answer is {p.A + p.B}.")).ToList();

        BaseSamples Draw(int promptsPerCall) =>
            BaseSamples.Draw(model, tokenizer, prompts, maxNewTokens: 10, seed, TestContext.Current.CancellationToken, promptsPerCall);
        var whole = Draw(48);
        var thirds = Draw(16);

        Assert.Equal(prompts.Count, whole.Responses.Count);
        for (int i = 0; i < prompts.Count; i++)
            Assert.True(whole.Responses[i].SequenceEqual(thirds.Responses[i]), $"answer {i} differs between one call of 48 and calls of 16 (seed {seed})");
        Assert.Equal(whole.Lengths, thirds.Lengths);
        Assert.Equal(whole.Correct, thirds.Correct);
    }

    [Fact]
    public void The_share_right_by_luck_is_of_the_right_answers_only()
    {
        Assert.Equal(1.0 / 3, BaseSamples.ShareRightByLuck([true, true, true, false, false], [true, false, true, false, false])!.Value, 12);
        Assert.Equal(0.0, BaseSamples.ShareRightByLuck([true, false], [true, false]));
        Assert.Null(BaseSamples.ShareRightByLuck([false, false], [false, false]));
    }
}
