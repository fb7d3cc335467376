using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda.Nccl;
using Mistral.C2F.Engine.Distributed;
using Spectre.Console;

namespace Mistral.C2F.Cli;

/// <summary>The training commands' choice of how gradients are summed over ranks (<see cref="NcclSelection"/>), said on rank 0.</summary>
internal static class GpuCollectives
{
    /// <summary>NCCL over the job's ranks on the backend's GPU where it is chosen (dispose it before the backend), else null.</summary>
    public static NcclCommunicator? Join(ICommunicator job, Backend backend)
    {
        var nccl = NcclSelection.Join(job, backend);
        if (nccl is not null && job.IsRoot)
            AnsiConsole.MarkupLine($"[grey]NCCL {Markup.Escape(NcclLibrary.Version)}: gradients summed on the GPUs of {job.Size} ranks[/]");
        return nccl;
    }
}
