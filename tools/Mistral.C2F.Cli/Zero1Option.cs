using System.CommandLine;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Training;
using Spectre.Console;

namespace Mistral.C2F.Cli;

/// <summary><c>--zero1</c> of the training commands: ZeRO-1 optimizer sharding under mpirun, allowed on a resumed run too.</summary>
internal static class Zero1Option
{
    public static Option<bool> Create() => new("--zero1")
    {
        Description = "Under mpirun: each rank keeps the AdamW moments of its 1/N of the parameters only (ZeRO-1: gradients reduce-scattered, " +
            "weights all-gathered); checkpoints hold the state whole, so a run resumes with or without it",
    };

    /// <summary>Whether to shard: as asked, with a warning when there is nothing to shard over (one process).</summary>
    public static bool Requested(ParseResult parse, Option<bool> zero1, ICommunicator communicator)
    {
        bool requested = parse.GetValue(zero1);
        if (requested && communicator.Size == 1) Warnings.Report("--zero1 has no effect in a single process; start the command under mpirun -np N");
        return requested;
    }

    /// <summary>On rank 0 of a sharded job: the optimizer state each rank keeps, against the whole.</summary>
    public static void Report(ICommunicator communicator, bool zero1, long keptElements, long totalElements)
    {
        if (!zero1 || communicator.Size == 1 || !communicator.IsRoot) return;
        const double MiB = 1 << 20;
        AnsiConsole.MarkupLine($"[grey]ZeRO-1: AdamW moments of {keptElements:N0} of {totalElements:N0} parameter elements on rank 0 " +
            $"({8 * keptElements / MiB:F1} MiB instead of {8 * totalElements / MiB:F1} MiB)[/]");
    }
}
