using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Mistral.C2F.Engine.Cuda.Tests.Runtime;

/// <summary>What <c>ptxas -v</c> says of each function of a PTX module: registers and spilled bytes.</summary>
public sealed partial record PtxasReport(string Function, int Registers, int SpillStoreBytes, int SpillLoadBytes)
{
    /// <summary>Assembles <paramref name="ptx"/> for <paramref name="architecture"/> (e.g. "sm_90") and reads the report.</summary>
    public static IReadOnlyList<PtxasReport> Assemble(string ptxas, string ptx, string architecture)
    {
        var file = Path.Combine(Path.GetTempPath(), $"c2f-{Guid.NewGuid():N}.ptx");
        File.WriteAllText(file, ptx);
        try
        {
            var start = new ProcessStartInfo(ptxas, ["-v", $"-arch={architecture}", file, "-o", OperatingSystem.IsWindows() ? "NUL" : "/dev/null"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            var text = output.Result + errors;
            if (process.ExitCode != 0) throw new InvalidOperationException($"ptxas -arch={architecture} failed:\n{text}");
            return Parse(text);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// Reads "Function properties for F", then F's "N bytes spill stores, M bytes spill loads" and, for an entry
    /// function, "Used R registers".
    /// </summary>
    public static IReadOnlyList<PtxasReport> Parse(string output)
    {
        var reports = new Dictionary<string, PtxasReport>();
        string? function = null;
        foreach (var line in output.Split('\n'))
        {
            if (PropertiesPattern().Match(line) is { Success: true } properties)
            {
                function = properties.Groups[1].Value;
                reports.TryAdd(function, new PtxasReport(function, 0, 0, 0));
            }
            else if (function is null) continue;
            else if (SpillPattern().Match(line) is { Success: true } spill)
                reports[function] = reports[function] with { SpillStoreBytes = Number(spill.Groups[1]), SpillLoadBytes = Number(spill.Groups[2]) };
            else if (RegistersPattern().Match(line) is { Success: true } registers)
                reports[function] = reports[function] with { Registers = Number(registers.Groups[1]) };
        }
        return [.. reports.Values];
    }

    private static int Number(Group group) => int.Parse(group.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Function properties for (\S+)")]
    private static partial Regex PropertiesPattern();

    [GeneratedRegex(@"(\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex SpillPattern();

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex RegistersPattern();
}
