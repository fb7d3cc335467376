using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Nccl;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Cuda.Tests.Nccl;

/// <summary>
/// NCCL on one rank of a GPU (NCCL refuses two ranks on one GPU): the all-reduce itself and a training step through the
/// NCCL gradient path against the single-process step. A sum over one rank is a copy, so both must match bit for bit.
/// Skipped, with the reason, without a GPU or without libnccl.so.2 (the GPU check finds PyTorch's).
/// </summary>
[Trait("Backend", "nccl")]
public sealed class NcclCommunicatorTests(KernelDevices devices)
{
    [Fact]
    public void A_one_rank_all_reduce_of_a_ragged_buffer_equals_its_input()
    {
        var backend = NcclOnGpu(devices.CudaBackend);
        using var nccl = NcclCommunicator.Create(SingleProcess.Instance, backend);
        const int n = 1_000_003;  // no multiple of any chunk NCCL cuts
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var input = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var source = backend.FromFloats(input, n);
        using var destination = backend.Allocate(n);
        backend.Fill(destination, double.NaN);

        nccl.AllReduceSum(backend.CollectiveAddress(source, "test"), backend.CollectiveAddress(destination, "test"), n);
        nccl.Wait();
        Assert.True(input.SequenceEqual(backend.ToFloats(destination)), $"out of place (seed {seed})");

        // In place on a view inside a larger tensor, as the optimizer's loss sum is: the view keeps its values, its neighbours theirs.
        using var whole = backend.FromFloats(input, n);
        nccl.AllReduceSum([whole.SliceRows(5, 4097)]);
        nccl.Wait();
        Assert.True(input.SequenceEqual(backend.ToFloats(whole)), $"in place (seed {seed})");
        Assert.Equal(2, nccl.AllReduces);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_training_step_through_nccl_equals_the_single_process_step_bit_for_bit(bool bf16)
    {
        var backend = NcclOnGpu(bf16 ? devices.CudaBf16Backend : devices.CudaBackend);
        int seed = Environment.TickCount;
        var alone = Step(backend, SingleProcess.Instance, seed);
        using var nccl = NcclCommunicator.Create(SingleProcess.Instance, backend);
        var summed = Step(backend, nccl, seed);

        Assert.Equal(alone.Parameters.Count + 1, nccl.AllReduces);  // every gradient and the loss sum, on the device
        Assert.Equal((alone.Outcome.LossSum, alone.Outcome.GradientNorm), (summed.Outcome.LossSum, summed.Outcome.GradientNorm));
        foreach (var (name, values) in alone.Parameters) Assert.True(values.SequenceEqual(summed.Parameters[name]), $"{name} (seed {seed})");
        // No host round trip: the same bytes each way as the single process, and one wait more (for the collectives).
        Assert.Equal((alone.Counts.HostToDeviceBytes, alone.Counts.DeviceToHostBytes, alone.Counts.HostSyncs + 1),
            (summed.Counts.HostToDeviceBytes, summed.Counts.DeviceToHostBytes, summed.Counts.HostSyncs));
    }

    [Fact]
    public void The_emulator_is_refused_and_a_tensor_nccl_cannot_sum_is_named()
    {
        var emulated = devices.EmulatedBackend;
        var error = Assert.Throws<ArgumentException>(() => NcclCommunicator.Create(SingleProcess.Instance, emulated));
        Assert.Contains("runs on the CPU emulator", error.Message);
        using var indices = emulated.FromInts([1, 2, 3], 3);
        Assert.Contains("collectives sum float32 tensors", Assert.Throws<ArgumentException>(() => emulated.CollectiveAddress(indices, "ncclAllReduce")).Message);
        using var cpu = new Backends.Cpu.CpuBackend(1);
        using var foreign = cpu.Allocate(4);
        Assert.Contains("belongs to backend 'cpu'", Assert.Throws<ArgumentException>(() => emulated.CollectiveAddress(foreign, "ncclAllReduce")).Message);
    }

    /// <summary>The backend, once there is a GPU (else a skip: "no CUDA device: …") and NCCL loads (else: "libnccl.so.2 not found …").</summary>
    private static CudaBackend NcclOnGpu(CudaBackend backend)
    {
        if (!NcclLibrary.TryLoad(out var problem)) Assert.Skip(problem);
        return backend;
    }

    private sealed record StepResult(StepOutcome Outcome, Dictionary<string, float[]> Parameters, DeviceCounts Counts);

    private static StepResult Step(CudaBackend backend, ICommunicator communicator, int seed)
    {
        var config = TestModels.Tiny(window: 8);
        var random = new Random(seed);
        var batch = CausalLmLoss.Batch.NextTokens(Enumerable.Range(0, 3).Select(_ => TestModels.RandomTokens(random, 21, config.VocabSize)).ToArray());
        using var model = TestModels.Random(config, backend, seed);
        var gradients = model.AttachGradients();
        using var optimizer = new AdamWOptimizer(backend, model.Parameters, gradients, new AdamWOptions { WeightDecay = 0.1f }, communicator);
        var before = backend.Counts;
        using (var tape = new Tape(backend)) CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens, optimizer.LossSum);
        var outcome = optimizer.Apply(learningRate: 1e-3, maxGradNorm: 1.0);
        var counts = backend.Counts - before;
        Assert.True(outcome.Updated);
        return new StepResult(outcome, model.Parameters.ToDictionary(p => p.Key, p => backend.ToFloats(p.Value)), counts);
    }
}
