using Mistral.C2F.Cli;

return CommandRunner.Run(C2fCommands.CreateRoot(), args);
