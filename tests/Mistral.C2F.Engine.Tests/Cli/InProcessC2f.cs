using Mistral.C2F.Cli;

namespace Mistral.C2F.Engine.Tests.Cli;

/// <summary>Runs c2f in-process with stderr captured (tests using it belong to the Console collection).</summary>
public static class InProcessC2f
{
    /// <summary>Runs with stdout discarded.</summary>
    public static (int ExitCode, string Error) Run(params string[] args)
    {
        var (code, _, error) = RunCapturing(args);
        return (code, error);
    }

    /// <summary>Runs with stdout captured too (what Console.Write prints; Spectre's tables go elsewhere).</summary>
    public static (int ExitCode, string Output, string Error) RunCapturing(params string[] args)
    {
        var (output, error) = (Console.Out, Console.Error);
        var (capturedOutput, capturedError) = (new StringWriter(), new StringWriter());
        Console.SetOut(capturedOutput);
        Console.SetError(capturedError);
        try
        {
            return (C2fCommands.Run(args), capturedOutput.ToString(), capturedError.ToString());
        }
        finally
        {
            Console.SetOut(output);
            Console.SetError(error);
        }
    }
}
