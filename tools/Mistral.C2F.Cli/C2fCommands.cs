using System.CommandLine;
using Mistral.C2F.Cli.Commands;

namespace Mistral.C2F.Cli;

/// <summary>The command tree of <c>c2f</c>.</summary>
public static class C2fCommands
{
    public static RootCommand CreateRoot() => new("c2f: the Mistral.C2F.Engine console (checkpoints, generation, training, logits and gradient dumps)")
    {
        InfoCommand.Create(),
        InitCommand.Create(),
        GenerateCommand.Create(),
        DumpCommand.Create(),
        new Command("train", "Train a model: sft, rm, ppo") { TrainSftCommand.Create(), TrainRewardModelCommand.Create(), TrainPpoCommand.Create() },
        BenchCommand.Create(),
        DemoCommand.Create(),
        MergeCommand.Create(),
        EvalCommand.Create(),
        PipelineCommand.Create(),
        PlanCommand.Create(),
    };

    /// <summary>Runs c2f in-process, as the executable would: the exit code, errors as one line on stderr.</summary>
    public static int Run(params string[] args) => CommandRunner.Run(CreateRoot(), args);
}
