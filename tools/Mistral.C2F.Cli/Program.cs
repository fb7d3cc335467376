using System.CommandLine;
using Mistral.C2F.Cli;
using Mistral.C2F.Cli.Commands;

var root = new RootCommand("c2f: the Mistral.C2F.Engine console (checkpoints, generation, logits dumps)")
{
    InfoCommand.Create(),
};
return CommandRunner.Run(root, args);
