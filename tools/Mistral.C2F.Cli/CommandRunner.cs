using System.CommandLine;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Distributed;
using Spectre.Console;

namespace Mistral.C2F.Cli;

/// <summary>Parses and runs a command; any failure becomes one clear line on stderr and a non-zero exit code.</summary>
internal static class CommandRunner
{
    /// <summary>The commands whose ranks share the work when mpirun starts several.</summary>
    private static readonly string[] DataParallelCommands = ["c2f train sft", "c2f train rm", "c2f train ppo", "c2f bench"];

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line per problem, as for every other error, instead of the whole help text.
            var help = $"(see '{string.Join(' ', CommandPath(parse.CommandResult.Command, root))} --help')";
            foreach (var error in parse.Errors) Error.WriteLine($"c2f: error: {error.Message} {help}");
            return 1;
        }
        var path = string.Join(' ', CommandPath(parse.CommandResult.Command, root));
        if (JobLaunch.Ranks > 1 && !DataParallelCommands.Contains(path))
        {
            // Every rank would run the whole command and write the same files.
            Error.WriteLine($"c2f: error: '{path}' does not run data-parallel; under mpirun only {string.Join(", ", DataParallelCommands.Select(c => $"'{c}'"))} does");
            return 1;
        }
        // Every rank of a data-parallel job reads the same inputs: rank 0 alone says what it finds wrong with them.
        using var warnings = Warnings.Redirect(message =>
        {
            if (JobLaunch.Rank == 0) Error.WriteLine($"c2f: warning: {message}");
        });
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (OperationCanceledException)
        {
            Error.WriteLine("c2f: cancelled");
            return 130;
        }
        catch (Exception e)
        {
            // Expected failures (bad input, missing files) carry their own message; anything else is a bug worth a type name.
            bool expected = e is ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException
                or NotSupportedException or InvalidOperationException or System.Text.Json.JsonException;
            Error.WriteLine($"c2f: error: {(expected ? e.Message : $"{e.GetType().Name}: {e.Message}")}");
            if (Environment.GetEnvironmentVariable("C2F_DEBUG") == "1") Error.WriteLine(e.ToString());
            return 1;
        }
    }

    private static TextWriter Error => Console.Error;

    private static IEnumerable<string> CommandPath(Command command, RootCommand root)
    {
        var path = new Stack<string>();
        for (var current = command; current is not null && current != root; current = current.Parents.OfType<Command>().FirstOrDefault())
            path.Push(current.Name);
        return path.Prepend("c2f");
    }
}
