using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Ppo.Rollouts;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Ppo;

[Trait("Backend", "cpu")]
public sealed class RolloutScoringTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Response_log_probs_come_from_the_row_before_each_token_and_ignore_padding()
    {
        var path = TinyCheckpoint.Write(Path.Combine(_directory.Path, "model"));
        using var backend = new CpuBackend(2);
        using var model = MistralCheckpoint.LoadModel(path, backend);
        int[][] prompts = [[1, 40, 41, 42], [1, 50]];
        int[][] responses = [[60, 61], [70, 71, 72, 73, 2]];
        var batch = new RolloutBatch(prompts, responses, padId: 2);
        Assert.Equal(7, batch.Length);
        Assert.Equal(3, batch.PredictingRow(0, 0)); // token 60 at position 4 is predicted by position 3
        Assert.Equal([5, 13], batch.LastTokenRows());

        var scored = SequenceScorer.LogProbs(model, batch, tape: null);
        var perToken = batch.ResponseValues(backend.ToDoubles(scored.PerRow.Value));
        for (int b = 0; b < 2; b++)
        {
            int[] sequence = [.. prompts[b], .. responses[b]];
            var logits = backend.ToFloats(model.Forward(backend.FromInts(sequence, 1, sequence.Length),
                backend.FromInts(Enumerable.Range(0, sequence.Length).ToArray(), 1, sequence.Length)));
            int vocab = model.Config.VocabSize;
            for (int j = 0; j < responses[b].Length; j++)
            {
                var row = logits.AsSpan((prompts[b].Length + j - 1) * vocab, vocab).ToArray();
                double max = row.Max(), logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                Assert.Equal(row[responses[b][j]] - logSumExp, perToken[batch.Layout.Start(b) + j], 4);
            }
        }
        Assert.Equal(batch.ToRows(perToken), backend.ToDoubles(scored.PerRow.Value).Select((v, i) => batch.ResponseTargets[i] >= 0 ? v : 0));

        // A mini-batch of the second rollout alone sees the same per-token values.
        var subset = batch.Subset([1], padId: 2);
        Assert.Equal(perToken.AsSpan(batch.Layout.Start(1), 5).ToArray(), batch.SubsetValues(perToken, [1], subset));
        Assert.Equal(5, subset.Layout.Width);
    }
}
