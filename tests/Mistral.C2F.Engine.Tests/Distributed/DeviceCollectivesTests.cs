using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Distributed;

/// <summary>
/// The optimizer's gradient sum through a communicator with collectives on the backend's buffers (NCCL's place), on the
/// CPU backend: a stand-in that sums as two ranks holding the same values would (doubling), so that a sum that never ran,
/// ran twice, or went through host memory instead shows in the step.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class DeviceCollectivesTests
{
    private static readonly (string Name, int[] Shape)[] Layout = [("model.layers.0.mlp.up_proj.weight", [3, 7]), ("model.norm.weight", [5])];

    [Fact]
    public void The_gradients_and_the_loss_of_a_served_backend_are_summed_on_it_in_one_bucket_then_waited_for()
    {
        var doubled = new DoublingCollectives(serves: true);
        var (outcome, weights, norm) = Step(doubled, gradientScale: 1, loss: 1.5f);

        Assert.Equal(["sum 3 tensors (27 elements)", "wait"], doubled.Calls);
        Assert.Equal(0, doubled.HostFloatSums);
        Assert.Equal(3.0, outcome.LossSum);
        Assert.Equal(2 * norm, outcome.GradientNorm, 5);
        // The same step from gradients doubled by hand, with no communicator: the same weights, bit for bit.
        Assert.Equal(Step(null, gradientScale: 2, loss: 3f).Weights, weights);
    }

    [Fact]
    public void A_backend_the_communicator_does_not_serve_is_left_to_the_host_path_which_one_rank_skips()
    {
        var other = new DoublingCollectives(serves: false);
        var (outcome, _, _) = Step(other, gradientScale: 1, loss: 1.5f);
        Assert.Empty(other.Calls);
        Assert.Equal(1.5, outcome.LossSum);
    }

    /// <summary>One AdamW step on the CPU backend over <paramref name="communicator"/>: its outcome, the weights after it and the norm of the gradients given.</summary>
    private static (StepOutcome Outcome, float[] Weights, double Norm) Step(ICommunicator? communicator, float gradientScale, float loss)
    {
        using var backend = new CpuBackend(1);
        var random = new Random(7);
        float[] Values(int count, float scale) => Enumerable.Range(0, count).Select(_ => scale * (float)(random.NextDouble() * 2 - 1)).ToArray();
        var parameters = new Dictionary<string, Tensor>();
        var gradients = new Dictionary<string, Tensor>();
        foreach (var (name, shape) in Layout)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            parameters[name] = backend.FromFloats(Values(count, 1), shape);
            gradients[name] = backend.FromFloats(Values(count, gradientScale), shape);
        }
        double norm = Math.Sqrt(gradients.Values.Sum(g => backend.ToFloats(g).Sum(v => (double)v * v)));
        using var optimizer = new AdamWOptimizer(backend, parameters, gradients, new AdamWOptions(), communicator);
        backend.Upload([loss], optimizer.LossSum);
        var outcome = optimizer.Apply(learningRate: 1e-2, maxGradNorm: 0);
        return (outcome, Layout.SelectMany(l => backend.ToFloats(parameters[l.Name])).ToArray(), norm);
    }

    /// <summary>One process whose device collectives sum as if a second rank held the same tensors; it records what it is asked.</summary>
    private sealed class DoublingCollectives(bool serves) : ICommunicator, IDeviceCollectives
    {
        public List<string> Calls { get; } = [];
        public int HostFloatSums { get; private set; }

        public int Rank => 0;
        public int Size => 1;

        public bool Serves(Backend backend) => serves;

        public void AllReduceSum(IReadOnlyList<Tensor> tensors)
        {
            Calls.Add($"sum {tensors.Count} tensors ({tensors.Sum(t => t.ElementCount)} elements)");
            foreach (var t in tensors) t.Backend.Upload(t.Backend.ToFloats(t).Select(v => 2 * v).ToArray(), t);
        }

        public void Wait() => Calls.Add("wait");

        public void AllReduceSum(Span<float> values) => HostFloatSums++;
        public void AllReduceSum(Span<double> values) { }
        public void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> share) => SingleProcess.Instance.ReduceScatterSum(values, share);
        public void AllGather(ReadOnlySpan<float> share, Span<float> values) => SingleProcess.Instance.AllGather(share, values);
        public void AllGather(ReadOnlySpan<double> share, Span<double> values) => SingleProcess.Instance.AllGather(share, values);
        public void Broadcast(Span<byte> values, int root) => SingleProcess.Instance.Broadcast(values, root);
        public void Barrier() { }
        public void Dispose() { }
    }
}
