using Mistral.C2F.Engine.Cuda.Nccl;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Engine.Cuda.Tests.Nccl;

/// <summary>When a data-parallel job sums its gradients with NCCL, and what it says when a GPU job cannot.</summary>
[Trait("Backend", "nccl")]
public sealed class NcclSelectionTests(KernelDevices devices)
{
    private const string Missing = "libnccl.so.2 not found (test)";

    [Fact]
    public void A_gpu_job_of_several_ranks_takes_nccl_when_it_loads()
    {
        Assert.Equal(new NcclSelection.Choice(true, ""), NcclSelection.Choose(2, cudaOnGpu: true, null, () => ""));
        Assert.Equal(new NcclSelection.Choice(true, ""), NcclSelection.Choose(8, cudaOnGpu: true, "1", () => ""));
    }

    [Fact]
    public void A_gpu_job_without_nccl_takes_the_host_path_and_says_why()
    {
        var missing = NcclSelection.Choose(2, cudaOnGpu: true, "", () => Missing);
        Assert.False(missing.Nccl);
        Assert.Equal($"{Missing}: the GPUs' gradients go through host memory over MPI", missing.Warning);
        var off = NcclSelection.Choose(2, cudaOnGpu: true, "0", () => throw new InvalidOperationException("the library is not asked when NCCL is off"));
        Assert.Equal(new NcclSelection.Choice(false, "C2F_NCCL=0: the GPUs' gradients go through host memory over MPI"), off);
    }

    [Fact]
    public void One_rank_or_a_backend_off_the_gpu_needs_no_nccl_and_no_word_about_it()
    {
        string Unasked() => throw new InvalidOperationException("the library is not asked where NCCL has nothing to do");
        Assert.Equal(new NcclSelection.Choice(false, ""), NcclSelection.Choose(1, cudaOnGpu: true, null, Unasked));
        Assert.Equal(new NcclSelection.Choice(false, ""), NcclSelection.Choose(4, cudaOnGpu: false, null, Unasked));
    }

    [Fact]
    public void A_switch_value_other_than_0_or_1_is_an_error_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => NcclSelection.Choose(2, cudaOnGpu: true, "yes", () => ""));
        Assert.StartsWith("C2F_NCCL=yes:", error.Message);
    }

    [Fact]
    public void Joining_on_the_emulator_gives_the_host_path_silently()
    {
        var warnings = new List<string>();
        using (Warnings.Redirect(warnings.Add))
            Assert.Null(NcclSelection.Join(SingleProcess.Instance, devices.EmulatedBackend));
        Assert.Empty(warnings);
    }
}
