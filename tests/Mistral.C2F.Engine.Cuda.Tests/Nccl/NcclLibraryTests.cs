using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Cuda.Nccl;

namespace Mistral.C2F.Engine.Cuda.Tests.Nccl;

/// <summary>Finding NCCL and reading what it says, with no NCCL or GPU needed: the messages a user sees when it is missing.</summary>
[Trait("Backend", "nccl")]
public sealed class NcclLibraryTests
{
    [Fact]
    public void A_configured_path_that_does_not_load_is_named_with_its_variable()
    {
        var loaded = NcclLibrary.Load("/no/such/dir/libnccl.so.2");
        Assert.Equal(0, loaded.Handle);
        Assert.Equal("C2F_NCCL_LIBRARY=/no/such/dir/libnccl.so.2: NCCL's library cannot be loaded " +
            "(/no/such/dir/libnccl.so.2: cannot open shared object file: No such file or directory)", loaded.Problem);
    }

    [Fact]
    public void The_default_search_finds_the_library_or_says_where_pytorch_keeps_it()
    {
        var loaded = NcclLibrary.Load(null);
        if (loaded.Handle != 0) Assert.Equal("", loaded.Problem);
        else
        {
            Assert.StartsWith("libnccl.so.2 not found", loaded.Problem);
            Assert.Contains("set C2F_NCCL_LIBRARY to its path", loaded.Problem);
            Assert.Contains("site-packages/nvidia/nccl/lib/libnccl.so.2", loaded.Problem);
        }
    }

    [Fact]
    public void A_library_that_loads_but_is_not_nccl_is_refused()
    {
        var other = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "libSystem.Native.so");
        Assert.SkipUnless(File.Exists(other), $"no {other} to stand for a library that is not NCCL (not Linux?)");
        var loaded = NcclLibrary.Load(other);
        Assert.Equal(0, loaded.Handle);
        Assert.Equal($"C2F_NCCL_LIBRARY={other} loads but is not NCCL: it has no ncclGetVersion", loaded.Problem);
    }

    [Fact]
    public void The_functions_the_engine_calls_are_read_from_its_bindings()
    {
        Assert.Contains("ncclAllReduce", NcclLibrary.Exports);
        Assert.Contains("ncclCommGetAsyncError", NcclLibrary.Exports);
        Assert.Contains("ncclGetVersion", NcclLibrary.Exports);
        Assert.Equal(NcclLibrary.Exports.Distinct().Count(), NcclLibrary.Exports.Count);
    }

    [Fact]
    public void An_nccl_without_a_function_the_engine_calls_is_refused_with_its_version_and_what_it_lacks()
    {
        string[] old = ["ncclGetVersion", "ncclAllReduce", "ncclGetUniqueId"];   // as NCCL 2.0–2.3 would lack the rest
        string problem = NcclLibrary.ExportProblem("libnccl.so.2", old.Contains, () => "2.3.7");
        Assert.StartsWith("libnccl.so.2 is NCCL 2.3.7, which lacks ", problem);
        Assert.Contains("ncclCommGetAsyncError", problem);
        Assert.DoesNotContain("ncclAllReduce", problem);
        Assert.EndsWith(": the engine needs NCCL 2.4 or later", problem);

        Assert.Equal("", NcclLibrary.ExportProblem("libnccl.so.2", _ => true, () => throw new InvalidOperationException("not asked when nothing is missing")));
        Assert.Equal("x.so loads but is not NCCL: it has no ncclGetVersion", NcclLibrary.ExportProblem("x.so", _ => false, () => "?"));
    }

    [Theory]
    [InlineData(2804, "2.8.4")]
    [InlineData(21605, "2.16.5")]
    [InlineData(22703, "2.27.3")]
    public void Version_codes_read_as_nccl_h_makes_them(int code, string version) => Assert.Equal(version, NcclLibrary.VersionText(code));

    [Fact]
    public void Results_are_named_as_nccl_h_names_them()
    {
        Assert.Equal("ncclInvalidUsage", NcclNative.ResultName(5));
        Assert.Equal("ncclRemoteError", NcclNative.ResultName(6));
        Assert.Equal("ncclResult_t 99", NcclNative.ResultName(99));
    }
}
