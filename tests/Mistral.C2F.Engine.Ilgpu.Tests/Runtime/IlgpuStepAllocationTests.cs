using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Ilgpu.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Ilgpu.Tests.Runtime;

/// <summary>
/// After warm-up a training step on ILGPU takes no buffer from the accelerator: every tensor it makes and frees is
/// served again by the backend's block pool, as on the CUDA backend, as its device counters show (launches and waits
/// counted too); it waits twice, to read the loss and the norm and then the fault record.
/// </summary>
[Trait("Backend", "ilgpu")]
public sealed class IlgpuStepAllocationTests(IlgpuBackends backends)
{
    [Fact]
    public void A_training_step_after_warm_up_takes_no_buffer_from_the_accelerator()
    {
        var backend = backends.Cpu;
        var config = TestModels.Tiny(window: 8, tied: false);
        using var model = TestModels.Random(config, backend, seed: 5);
        var gradients = model.AttachGradients();
        using var tape = new Tape(backend);
        using var optimizer = new AdamWOptimizer(backend, model.Parameters, gradients, new AdamWOptions());
        var random = new Random(5);
        void Step()
        {
            var batch = CausalLmLoss.Batch.NextTokens(Enumerable.Range(0, 2).Select(_ => TestModels.RandomTokens(random, 9, config.VocabSize)).ToArray());
            CausalLmLoss.ForwardBackward(model, tape, batch, batch.LossTokens, optimizer.LossSum);
            optimizer.Apply(1e-4, maxGradNorm: 1.0);
        }
        Step();
        var before = backend.Counts;
        Step();
        var counts = backend.Counts - before;
        TestContext.Current.TestOutputHelper?.WriteLine(counts.ToString());
        Assert.Equal(0, counts.Allocations);
        Assert.Equal(0, counts.Frees);
        Assert.True(counts.Launches > 0, "the step launched nothing");
        // The loss, the norm and the guard stay on the device: one read of the two, then the kernels' fault record.
        Assert.Equal(2, counts.HostSyncs);
    }
}
