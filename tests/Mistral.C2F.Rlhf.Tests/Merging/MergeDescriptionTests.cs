using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

[Trait("Backend", "cpu")]
public sealed class MergeDescriptionTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private MergeSpec Load(string text)
    {
        var path = _directory.File("merge.yaml");
        File.WriteAllText(path, text);
        return MergeDescription.Load(path);
    }

    /// <summary>The error for a description; every one names the file.</summary>
    private string Error(string text)
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(text));
        Assert.StartsWith(_directory.File("merge.yaml") + ": ", error.Message);
        return error.Message;
    }

    [Fact]
    public void A_krm_description_sets_every_field_and_resolves_paths_from_its_own_directory()
    {
        var spec = Load("""
            method: krm
            base: models/base
            coarse: runs/coarse
            instruct: /abs/instruct
            refine: dare
            density: 0.3
            seed: 7
            lambda:
              default: 0.9
              embeddings: 0
              attention: 0.8
              mlp: 1.2
              norms: 0.5
            dtype: bf16
            shard_size: 1000000
            """);

        Assert.Equal(MergeMethod.Krm, spec.Method);
        Assert.Equal(_directory.File("models/base"), spec.Base);
        Assert.Equal([new MergeModel(_directory.File("runs/coarse"))], spec.Models);
        Assert.Equal("/abs/instruct", spec.Instruct);
        Assert.Equal(Sparsification.Dare, spec.Sparsification);
        Assert.Equal(0.3, spec.Density);
        Assert.Equal(7UL, spec.Seed);
        Assert.Equal(new GroupLambdas(0.9f, 0f, 0.8f, 1.2f, 0.5f), spec.Lambda);
        Assert.Equal(DType.BF16, spec.Storage);
        Assert.Equal(1_000_000, spec.MaxShardBytes);
    }

    [Fact]
    public void A_ties_description_lists_models_with_their_own_weight_and_density()
    {
        var spec = Load("""
            method: ties
            base: base
            models:
              - path: math
                weight: 0.6
                density: 0.5
              - {path: code}
            density: 0.7
            lambda: 0.8
            normalize: false
            """);

        Assert.Equal([new MergeModel(_directory.File("math"), 0.6f, 0.5), new MergeModel(_directory.File("code"))], spec.Models);
        Assert.Equal([0.5, 0.7], spec.Models.Select(spec.DensityOf));
        Assert.Equal(new GroupLambdas(0.8f), spec.Lambda);
        Assert.False(spec.Normalizes);
        Assert.Null(spec.Storage);
    }

    [Fact]
    public void Json_is_read_as_it_is()
    {
        var spec = Load("""{"method": "dare_ties", "base": "b", "models": [{"path": "m", "weight": 2}], "density": 0.4, "seed": 3}""");
        Assert.Equal(MergeMethod.DareTies, spec.Method);
        Assert.Equal([new MergeModel(_directory.File("m"), 2f)], spec.Models);
        Assert.Equal(Sparsification.Dare, spec.Sparsification);
        Assert.False(spec.Normalizes);
    }

    [Theory]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nlamda: 1\n", "line 5: 'lamda' is not a key of a krm merge")]
    [InlineData("method: ties\nbase: b\nmodels: [{path: m}]\ndensity: 0.5\nrefine: trim\n", "line 5: 'refine' is not a key of a ties merge")]
    [InlineData("method: ties\nbase: b\nmodels:\n  - path: m\n    weight: heavy\ndensity: 0.5\n", "line 5: 'models[0].weight' must be a number, got 'heavy'")]
    [InlineData("method: ties\nbase: b\nmodels:\n  - path: m\n  - path: n\n    densty: 0.5\n", "line 6: 'models[1].densty' is not a key of a model entry")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nlambda: {mlp: lots}\n", "line 5: 'lambda.mlp' must be a number, got 'lots'")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nlambda: {mpl: 1}\n", "line 5: 'lambda.mpl' is not a key of 'lambda'")]
    [InlineData("method: krm\nbase:\ncoarse: c\ninstruct: i\n", "line 2: 'base' has no value")]
    [InlineData("method: krm\nbase: \"\"\ncoarse: c\ninstruct: i\n", "line 2: 'base' has no value")]
    [InlineData("method: krm\nbase: b\ncoarse: ~\ninstruct: i\n", "line 3: 'coarse' has no value")]
    [InlineData("method: krm\ncoarse: c\ninstruct: i\n", "missing 'base'")]
    [InlineData("method: slerp\nbase: b\n", "'method' must be one of krm, task_arithmetic, ties, dare_linear, dare_ties, got 'slerp'")]
    [InlineData("base: b\n", "missing 'method'")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\ndtype: fp8\n", "line 5: 'dtype' must be one of f32, bf16, f16")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nseed: -1\n", "line 5: 'seed' must be a non-negative whole number, got '-1'")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nrefine: prune\n", "line 5: 'refine' must be one of none, trim, dare, got 'prune'")]
    [InlineData("method: ties\nbase: b\nmodels: m\n", "line 3: 'models' must be a list")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nrefine: trim\ndensity: 1.5\n", "'density' must be in (0, 1], got 1.5")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nrefine: trim\n", "krm with refine: trim needs a 'density'")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\ndensity: 0.5\n", "'density' has no effect: krm with refine: none does not sparsify")]
    [InlineData("method: ties\nbase: b\nmodels: [{path: m, density: 0.5}, {path: n}]\n", "ties needs a 'density' (at the top level or for every model)")]
    [InlineData("method: task_arithmetic\nbase: b\nmodels: [{path: m, density: 0.5}]\n", "'density' has no effect: task_arithmetic does not sparsify")]
    [InlineData("method: dare_linear\nbase: b\nmodels: [{path: m, density: 0}]\n", "'models[0].density' must be in (0, 1], got 0")]
    [InlineData("method: ties\nbase: b\nmodels: []\ndensity: 0.5\n", "ties needs at least one entry in 'models'")]
    [InlineData("method: krm\nbase: b\ncoarse: c\ninstruct: i\nshard_size: 0\n", "'shard_size' must be a positive number of bytes, got 0")]
    [InlineData("method: krm\nbase: b\nbase: c\n", "line 3: malformed YAML: Duplicate key base")]
    [InlineData("method: krm\nbase: [b\n", "line 3: malformed YAML: While parsing a flow sequence")]
    [InlineData("- method: krm\n", "line 1: expected a mapping of keys")]
    public void Errors_name_the_file_and_the_key(string text, string expected) => Assert.Contains(expected, Error(text));

    [Fact]
    public void A_missing_file_is_named()
    {
        var path = _directory.File("absent.yaml");
        var error = Assert.Throws<FileNotFoundException>(() => MergeDescription.Load(path));
        Assert.Contains(path, error.Message);
    }
}
