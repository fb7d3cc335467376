using Mistral.C2F.Cli;

namespace Mistral.C2F.Engine.Tests.Cli;

/// <summary>Runs c2f in-process with stdout discarded and stderr captured (tests using it belong to the Console collection).</summary>
public static class InProcessC2f
{
    public static (int ExitCode, string Error) Run(params string[] args)
    {
        var (output, error) = (Console.Out, Console.Error);
        var captured = new StringWriter();
        Console.SetOut(TextWriter.Null);
        Console.SetError(captured);
        try
        {
            return (C2fCommands.Run(args), captured.ToString());
        }
        finally
        {
            Console.SetOut(output);
            Console.SetError(error);
        }
    }
}
