using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Mistral.C2F.Engine.Cuda.Driver;

/// <summary>
/// The PTX of kernels/*.cu that kernels/Ptx.targets embedded in this assembly, one resource per module and
/// architecture ("ptx/sm_90/rmsnorm.ptx"), with the kernels each module defines, read from its `.entry`
/// lines so that a module is handed to the driver (which JIT-compiles it) only when one of its kernels is
/// first launched.
/// </summary>
internal sealed partial class PtxLibrary
{
    private const string Prefix = "ptx/sm_";
    private readonly Assembly _assembly;
    private readonly Dictionary<int, Dictionary<string, string>> _resources = [];

    private PtxLibrary(Assembly assembly)
    {
        _assembly = assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(name => name.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var parts = resource[Prefix.Length..].Split('/');
            var architecture = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            if (!_resources.TryGetValue(architecture, out var modules)) _resources[architecture] = modules = [];
            modules[Path.GetFileNameWithoutExtension(parts[1])] = resource;
        }
    }

    public static PtxLibrary Embedded { get; } = new(typeof(PtxLibrary).Assembly);

    /// <summary>The architectures PTX was built for, ascending: 80 for sm_80, 90 for sm_90.</summary>
    public IReadOnlyList<int> Architectures => [.. _resources.Keys.Order()];

    /// <summary>
    /// The newest architecture a device of compute capability <paramref name="computeCapability"/> (major·10 + minor)
    /// can run, or null when the device is older than all of them. PTX runs on its own and every later architecture.
    /// </summary>
    public int? BestArchitecture(int computeCapability) =>
        Architectures.Where(architecture => architecture <= computeCapability).Select(a => (int?)a).LastOrDefault();

    public IEnumerable<string> Modules(int architecture) => _resources[architecture].Keys;

    public string Text(int architecture, string module)
    {
        using var stream = _assembly.GetManifestResourceStream(_resources[architecture][module])!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Kernel name → the module defining it, for one architecture.</summary>
    public Dictionary<string, string> KernelModules(int architecture) =>
        Modules(architecture)
            .SelectMany(module => EntryNames(Text(architecture, module)).Select(kernel => (kernel, module)))
            .ToDictionary(pair => pair.kernel, pair => pair.module);

    /// <summary>The kernels a PTX module defines (<c>.visible .entry name(</c>).</summary>
    public static IEnumerable<string> EntryNames(string ptx) => EntryPattern().Matches(ptx).Select(match => match.Groups[1].Value);

    [GeneratedRegex(@"\.entry\s+([A-Za-z_][A-Za-z0-9_$]*)\s*\(")]
    private static partial Regex EntryPattern();
}
