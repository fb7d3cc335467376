using Mistral.C2F.Cli;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tests.Cli;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary><c>c2f merge</c> in-process: what it writes equals the library's merge, and errors are one line with exit code 1.</summary>
[Trait("Backend", "cpu")]
[Collection(ConsoleCollection.Name)]
public sealed class MergeCommandTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _base, _coarse, _instruct, _math;

    public MergeCommandTests()
    {
        _base = MergeModels.Write(_directory.File("base"), seed: 1);
        _coarse = MergeModels.Write(_directory.File("coarse"), seed: 2);
        _instruct = MergeModels.Write(_directory.File("instruct"), seed: 3);
        _math = MergeModels.Write(_directory.File("math"), seed: 4);
    }

    public void Dispose() => _directory.Dispose();

    private static (int ExitCode, string Error) Run(params string[] args) => InProcessC2f.Run(args);

    private void AssertSameTensors(string expected, string actual)
    {
        var (want, got) = (MergeModels.Read(expected), MergeModels.Read(actual));
        Assert.Equal(want.Keys.Order(StringComparer.Ordinal), got.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, values) in want) Assert.True(values.AsSpan().SequenceEqual(got[name]), $"tensor {name} differs");
    }

    [Fact]
    public void Krm_options_write_the_same_model_as_the_library()
    {
        var (code, error) = Run("merge", "--base", _base, "--coarse", _coarse, "--instruct", _instruct, "--out", _directory.File("cli"),
            "--refine", "dare", "--density", "0.4", "--seed", "9", "--lambda", "0.8", "--lambda-norms", "0", "--dtype", "f32", "--shard-size", "6000");
        Assert.True(code == 0, error);

        ModelMerger.Run(MergeSpec.Krm(_base, _coarse, _instruct) with
        {
            Refine = Sparsification.Dare, Density = 0.4, Seed = 9, Lambda = new GroupLambdas(0.8f, Norms: 0f),
        }, _directory.File("library"), cancellationToken: TestContext.Current.CancellationToken);
        AssertSameTensors(_directory.File("library"), _directory.File("cli"));
        Assert.True(File.Exists(Path.Combine(_directory.File("cli"), SafeTensorsIndex.FileName)));
    }

    [Fact]
    public void A_description_file_runs_any_method()
    {
        var description = _directory.File("ties.yaml");
        File.WriteAllText(description, "method: ties\nbase: base\nmodels:\n  - {path: math, weight: 0.7}\n  - {path: coarse, weight: 0.3, density: 0.2}\ndensity: 0.5\n");

        var (code, error) = Run("merge", "--config", description, "--out", _directory.File("cli"));
        Assert.True(code == 0, error);

        ModelMerger.Run(MergeDescription.Load(description), _directory.File("library"), cancellationToken: TestContext.Current.CancellationToken);
        AssertSameTensors(_directory.File("library"), _directory.File("cli"));
    }

    [Theory]
    [InlineData("--density", "0.5")]
    [InlineData("--base", "x")]
    public void Krm_options_next_to_a_description_are_refused(string option, string value)
    {
        var description = _directory.File("ta.yaml");
        File.WriteAllText(description, "method: task_arithmetic\nbase: base\nmodels: [{path: math}]\n");
        var (code, error) = Run("merge", "--config", description, option, value, "--out", _directory.File("cli"));
        Assert.Equal(1, code);
        Assert.Contains($"{option}: give the merge either in --config or as options, not both", error);
    }

    [Fact]
    public void Errors_are_one_line_naming_what_to_fix()
    {
        var (code, error) = Run("merge", "--base", _base, "--instruct", _instruct, "--out", _directory.File("cli"));
        Assert.Equal(1, code);
        Assert.Contains("--coarse is required", error);

        var description = _directory.File("bad.yaml");
        File.WriteAllText(description, "method: ties\nbase: base\nmodels: [{path: math, weight: much}]\n");
        (code, error) = Run("merge", "--config", description, "--out", _directory.File("cli"));
        Assert.Equal(1, code);
        Assert.Equal($"c2f: error: {description}: line 3: 'models[0].weight' must be a number, got 'much'", error.Trim());

        (code, error) = Run("merge", "--base", _base, "--coarse", _coarse, "--instruct", _instruct, "--out", _directory.File("cli"), "--refine", "trim");
        Assert.Equal(1, code);
        Assert.Contains("krm with refine: trim needs a 'density'", error);
        Assert.False(Directory.Exists(_directory.File("cli")));
    }

    [Fact]
    public void A_non_empty_output_needs_force()
    {
        string[] args = ["merge", "--base", _base, "--coarse", _coarse, "--instruct", _instruct, "--out", _directory.File("cli")];
        Assert.Equal(0, Run(args).ExitCode);
        var (code, error) = Run(args);
        Assert.Equal(1, code);
        Assert.Contains("not empty", error);
        Assert.Equal(0, Run([.. args, "--force"]).ExitCode);
    }
}
