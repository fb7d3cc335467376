using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Engine.Cuda.Nccl;

/// <summary>
/// How a data-parallel job sums its gradients: with NCCL on the GPUs when the job has several ranks, the backend is the
/// CUDA kernels on a GPU (<c>cuda</c>, <c>cuda-bf16</c>), every rank loads <c>libnccl.so.2</c> and <see cref="SwitchVariable"/>
/// is not 0; otherwise through host memory over MPI. A GPU job left on the host path is told why in a warning: its
/// gradients then cross PCIe twice a step. CPU backends and the emulator take the host path, as they should, silently.
/// </summary>
public static class NcclSelection
{
    /// <summary>0 keeps a GPU job's gradients on the host path, to compare the two.</summary>
    public const string SwitchVariable = "C2F_NCCL";

    /// <summary>Whether this rank can use NCCL, and where not, the warning that says why (empty where the host path is simply right).</summary>
    public sealed record Choice(bool Nccl, string Warning);

    /// <param name="ranks">The job's ranks.</param>
    /// <param name="cudaOnGpu">Whether the backend is the CUDA kernels on a GPU.</param>
    /// <param name="switchValue">The value of <see cref="SwitchVariable"/>: null, empty or 1 lets NCCL be chosen, 0 turns it off.</param>
    /// <param name="libraryProblem">Why NCCL does not load; empty when it does. Asked only when it matters.</param>
    public static Choice Choose(int ranks, bool cudaOnGpu, string? switchValue, Func<string> libraryProblem)
    {
        bool allowed = switchValue switch
        {
            null or "" or "1" => true,
            "0" => false,
            _ => throw new ArgumentException($"{SwitchVariable}={switchValue}: 0 keeps gradients on the host path, 1 (or unset) lets NCCL sum them"),
        };
        if (ranks == 1 || !cudaOnGpu) return new Choice(false, "");
        if (!allowed) return new Choice(false, $"{SwitchVariable}=0: the GPUs' gradients go through host memory over MPI");
        var problem = libraryProblem();
        return problem.Length == 0 ? new Choice(true, "") : new Choice(false, $"{problem}: the GPUs' gradients go through host memory over MPI");
    }

    /// <summary>
    /// NCCL joined over <paramref name="job"/>'s ranks on <paramref name="backend"/>'s GPU where every rank's
    /// <see cref="Choose"/> says so, else null (the job's communicator alone), with the warning reported. Every rank
    /// calls it at the same point; the ranks agree before any joins, so none waits in NCCL for one that went the host way.
    /// </summary>
    public static NcclCommunicator? Join(ICommunicator job, Backend backend)
    {
        var cuda = backend as CudaBackend;
        var choice = Choose(job.Size, cuda?.Gpu is not null, Environment.GetEnvironmentVariable(SwitchVariable),
            () => NcclLibrary.TryLoad(out var problem) ? "" : problem);
        Span<double> willing = [choice.Nccl ? 1 : 0];
        job.AllReduceSum(willing);
        if (choice.Nccl && willing[0] < job.Size)
            choice = new Choice(false, $"NCCL loads on {willing[0]} of {job.Size} ranks: the GPUs' gradients go through host memory over MPI");
        if (choice.Warning.Length > 0) Warnings.Report(choice.Warning);
        return choice.Nccl ? NcclCommunicator.Create(job, cuda!) : null;
    }
}
