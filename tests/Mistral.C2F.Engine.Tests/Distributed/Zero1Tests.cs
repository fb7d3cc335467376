using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Distributed;

/// <summary>
/// ZeRO-1 over ranks that are threads of this process (<see cref="ThreadRanks"/>), on the CPU backend: three ranks
/// and 57 parameter elements (ranges of 19, cut across parameters), so every range is ragged against the tensors.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class Zero1Tests
{
    private const int Ranks = 3;
    private static readonly (string Name, int[] Shape)[] Layout =
        [("model.layers.0.mlp.up_proj.weight", [7, 5]), ("model.norm.weight", [13]), ("lm_head.weight", [3, 3])];

    [Fact]
    public void Ranges_cover_every_element_once_and_the_collectives_move_each_range_in_small_rounds()
    {
        var results = new ThreadRanks(Ranks).Run(communicator =>
        {
            using var backend = new CpuBackend(1);
            var (parameters, gradients) = Tensors(backend, seed: 0);
            foreach (var g in gradients.Values) Scale(backend, g, communicator.Rank + 1);
            var partition = new Zero1Partition(backend, communicator, Layout.Select(l => (l.Name, parameters[l.Name], gradients[l.Name])).ToList(), roundElements: 4);
            var pieces = partition.Pieces.Select(p => (p.FlatStart, p.Length)).ToArray();

            partition.ReduceScatterGradients();
            var reduced = Flat(backend, gradients);
            // Each rank writes its rank number over its range; the all-gather spreads every range.
            foreach (var piece in partition.Pieces) backend.Upload(Enumerable.Repeat((float)communicator.Rank, piece.Length).ToArray(), piece.Parameter);
            partition.AllGatherParameters();
            var own = partition.Pieces.SelectMany(p => Enumerable.Range(p.Start, p.Length).Select(i => (float)(1000 * communicator.Rank + i))).ToArray();
            return (pieces, reduced, Weights: Flat(backend, parameters), Gathered: partition.Gather(own), partition.ShardElements);
        });

        Assert.All(results, r => Assert.Equal(19, r.ShardElements));
        var covered = results.SelectMany(r => r.pieces.SelectMany(p => Enumerable.Range((int)p.FlatStart, p.Length))).ToArray();
        Assert.Equal(Enumerable.Range(0, 57), covered);
        var original = FlatOriginal(seed: 0);
        for (int rank = 0; rank < Ranks; rank++)
            for (int i = 0; i < 57; i++)
            {
                bool owned = i / 19 == rank;
                // Owned elements: the sum of the ranks' gradients (1 + 2 + 3 times the original); others: this rank's own.
                Assert.Equal(original[i] * (owned ? 6 : rank + 1), results[rank].reduced[i], 5);
                Assert.Equal(i / 19, results[rank].Weights[i]);
            }
        Assert.All(results, r => Assert.Equal(results[0].Gathered, r.Gathered));
        Assert.Equal(results[0].Gathered, Enumerable.Range(0, 57).Select(i => (float)(1000 * (i / 19) + StartInParameter(i))));
    }

    /// <summary>
    /// Each rank's gradients differ; the sharded optimizer on three ranks must give every rank the weights one unsharded
    /// optimizer reaches from the summed gradients (clipping on, a decayed and an undecayed parameter, a step skipped for
    /// a non-finite loss on one rank), its gathered state must be that optimizer's, and a sharded optimizer restored
    /// from that state must continue as the unsharded one does.
    /// </summary>
    [Fact]
    public void Sharded_AdamW_on_three_ranks_equals_one_optimizer_of_the_summed_gradients_and_restores_from_its_gathered_state()
    {
        const double Tolerance = 1e-6;
        var options = new AdamWOptions { WeightDecay = 0.1f };
        int[] steps = [1, 2, 3, 4];
        bool Finite(int step, int rank) => !(step == 3 && rank == 1);

        using var referenceBackend = new CpuBackend(1);
        var (referenceParameters, referenceGradients) = Tensors(referenceBackend, seed: 0, zeroGradients: true);
        using var reference = new AdamWOptimizer(referenceBackend, referenceParameters, referenceGradients, options);
        var referenceOutcomes = new List<StepOutcome>();
        Dictionary<string, float[]>? referenceState = null;
        foreach (int step in steps)
        {
            for (int rank = 0; rank < Ranks; rank++) AddGradients(referenceBackend, referenceGradients, step, rank);
            referenceBackend.Upload([0.5f * Ranks], reference.LossSum);
            referenceOutcomes.Add(reference.Apply(learningRate: 0.01, maxGradNorm: 2.0, lossIsFinite: step != 3));
            if (step == 3) referenceState = reference.State().ToDictionary(s => s.Name, s => s.Read());
        }
        var referenceWeights = Flat(referenceBackend, referenceParameters);

        var ranks = new ThreadRanks(Ranks).Run(communicator =>
        {
            using var backend = new CpuBackend(1);
            var (parameters, gradients) = Tensors(backend, seed: 0, zeroGradients: true);
            using var sharded = new AdamWOptimizer(backend, parameters, gradients, options with { ShardOverRanks = true }, communicator);
            var outcomes = new List<StepOutcome>();
            Dictionary<string, float[]>? state = null;
            float[] weightsAtSkip = [];
            foreach (int step in steps)
            {
                AddGradients(backend, gradients, step, communicator.Rank);
                backend.Upload([0.5f], sharded.LossSum);
                outcomes.Add(sharded.Apply(learningRate: 0.01, maxGradNorm: 2.0, lossIsFinite: Finite(step, communicator.Rank)));
                if (step != 3) continue;
                weightsAtSkip = Flat(backend, parameters);
                sharded.GatherState();
                if (communicator.IsRoot) state = sharded.State().ToDictionary(s => s.Name, s => s.Read());
            }
            return (outcomes, Weights: Flat(backend, parameters), weightsAtSkip, state, sharded.StateElements);
        });

        Assert.Equal([19L, 19, 19], ranks.Select(r => r.StateElements));
        foreach (var rank in ranks)
        {
            Assert.Equal(referenceOutcomes.Select(o => o.Updated), rank.outcomes.Select(o => o.Updated));
            Assert.False(rank.outcomes[2].Updated);
            for (int i = 0; i < steps.Length; i++)
            {
                Assert.True(Math.Abs(referenceOutcomes[i].GradientNorm - rank.outcomes[i].GradientNorm) <= Tolerance * referenceOutcomes[i].GradientNorm,
                    $"step {i + 1}: gradient norm {rank.outcomes[i].GradientNorm} vs {referenceOutcomes[i].GradientNorm}");
                if (i != 2) Assert.Equal(referenceOutcomes[i].LossSum, rank.outcomes[i].LossSum, 6);
            }
            AssertClose(referenceWeights, rank.Weights, Tolerance);
        }
        Assert.Null(ranks[1].state);
        Assert.Equal(referenceState!.Keys.Order(), ranks[0].state!.Keys.Order());
        foreach (var (name, values) in referenceState) AssertClose(values, ranks[0].state![name], Tolerance);

        // Restored from step 3's gathered state and weights, step 4 on three ranks again equals the unsharded step 4.
        var (state, weightsAtSkip) = (ranks[0].state!, ranks[0].weightsAtSkip);
        var resumed = new ThreadRanks(Ranks).Run(communicator =>
        {
            using var backend = new CpuBackend(1);
            var (parameters, gradients) = Tensors(backend, seed: 0, zeroGradients: true);
            int offset = 0;
            foreach (var (name, _) in Layout)
            {
                backend.Upload(weightsAtSkip.AsSpan(offset, (int)parameters[name].ElementCount), parameters[name]);
                offset += (int)parameters[name].ElementCount;
            }
            using var sharded = new AdamWOptimizer(backend, parameters, gradients, options with { ShardOverRanks = true }, communicator);
            sharded.Restore(name => state[name], step: 2);
            AddGradients(backend, gradients, 4, communicator.Rank);
            backend.Upload([0.5f], sharded.LossSum);
            Assert.True(sharded.Apply(learningRate: 0.01, maxGradNorm: 2.0).Updated);
            return Flat(backend, parameters);
        });
        foreach (var weights in resumed) AssertClose(referenceWeights, weights, Tolerance);
    }

    /// <summary>Adds rank <paramref name="rank"/>'s gradients of <paramref name="step"/>.</summary>
    private static void AddGradients(Backend backend, IReadOnlyDictionary<string, Tensor> gradients, int step, int rank)
    {
        var random = new Random(100 * step + rank);
        foreach (var gradient in gradients.Values)
            backend.Upload(backend.ToFloats(gradient).Select(g => g + (float)(random.NextDouble() * 2 - 1)).ToArray(), gradient);
    }

    /// <summary>The layout's parameters from <paramref name="seed"/>, their gradients equal to them or zero.</summary>
    private static (Dictionary<string, Tensor> Parameters, Dictionary<string, Tensor> Gradients) Tensors(Backend backend, int seed, bool zeroGradients = false)
    {
        var original = FlatOriginal(seed);
        int offset = 0;
        var parameters = new Dictionary<string, Tensor>();
        var gradients = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in Layout)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            parameters[name] = backend.FromFloats(original.AsSpan(offset, count).ToArray(), shape);
            gradients[name] = backend.FromFloats(zeroGradients ? new float[count] : original.AsSpan(offset, count).ToArray(), shape);
            offset += count;
        }
        return (parameters, gradients);
    }

    private static float[] FlatOriginal(int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 57).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static int StartInParameter(int flat) => flat < 35 ? flat : flat < 48 ? flat - 35 : flat - 48;

    private static void Scale(Backend backend, Tensor t, float factor) => backend.Upload(backend.ToFloats(t).Select(v => v * factor).ToArray(), t);

    private static float[] Flat(Backend backend, IReadOnlyDictionary<string, Tensor> tensors) => Layout.SelectMany(l => backend.ToFloats(tensors[l.Name])).ToArray();

    private static void AssertClose(float[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"element {i}: {actual[i]} vs {expected[i]}");
    }
}
