using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary>Whole merges through checkpoints on disk, compared bit for bit with <see cref="ReferenceMerge"/>.</summary>
[Trait("Backend", "cpu")]
public sealed class ModelMergerTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _base, _coarse, _instruct, _math, _code;

    public ModelMergerTests()
    {
        _base = MergeModels.Write(_directory.File("base"), seed: 1);
        _coarse = MergeModels.Write(_directory.File("coarse"), seed: 2);
        _instruct = MergeModels.Write(_directory.File("instruct"), seed: 3);
        _math = MergeModels.Write(_directory.File("math"), seed: 4);
        _code = MergeModels.Write(_directory.File("code"), seed: 5);
    }

    public void Dispose() => _directory.Dispose();

    private MergeSpec Krm => MergeSpec.Krm(_base, _coarse, _instruct) with { Storage = DType.F32 };

    private MergeSpec TaskVectors(MergeMethod method) => new()
    {
        Method = method, Base = _base, Models = [new MergeModel(_math, 0.6f, 0.5), new MergeModel(_code, 0.4f)], Density = 0.7,
        Lambda = new GroupLambdas(0.9f), Seed = 5, Storage = DType.F32,
    };

    private string Output(string name = "out") => _directory.File(name);

    private static MergeResult Merge(MergeSpec spec, string output, IProgress<MergeProgress>? progress = null, bool replace = false) =>
        ModelMerger.Run(spec, output, progress, replace, TestContext.Current.CancellationToken);

    [Fact]
    public void Krm_without_refinement_is_the_instruct_model_plus_the_residue()
    {
        var result = Merge(Krm, Output());

        var (merged, baseModel, coarse, instruct) = (MergeModels.Read(Output()), MergeModels.Read(_base), MergeModels.Read(_coarse), MergeModels.Read(_instruct));
        Assert.Equal(21, merged.Count);
        foreach (var (name, values) in merged)
            AssertBitwiseEqual(name, instruct[name].Select((v, i) => v + (coarse[name][i] - baseModel[name][i])).ToArray(), values);
        Assert.Equal(21, result.Tensors);
        Assert.Equal(merged.Values.Sum(v => v.Length), result.Parameters);
        Assert.Equal([SafeTensorsCheckpoint.SingleFileName], result.WeightFiles);
    }

    [Theory]
    [InlineData(Sparsification.None, null)]
    [InlineData(Sparsification.Trim, 0.3)]
    [InlineData(Sparsification.Dare, 0.3)]
    public void Krm_refines_the_residue_and_scales_it_by_the_lambda_of_each_group(Sparsification refine, double? density)
    {
        var lambda = new GroupLambdas(Default: 1f, Embeddings: 0.25f, Attention: 0.5f, Mlp: 2f, Norms: 0.75f);
        Merge(Krm with { Refine = refine, Density = density, Lambda = lambda, Seed = 11 }, Output());

        AssertMerged(Output(), _instruct, [_coarse], new ReferenceMerge.Settings(refine, SignConsensus: false, Normalize: false,
            Weights: [1f], Densities: [density ?? 1.0], lambda, Seed: 11));
    }

    [Fact]
    public void Lambda_zero_for_a_group_leaves_exactly_its_tensors_of_the_instruct_model()
    {
        Merge(Krm with { Lambda = new GroupLambdas(Default: 1f, Embeddings: 0f, Norms: 0f) }, Output());

        var (merged, instruct) = (MergeModels.Read(Output()), MergeModels.Read(_instruct));
        var untouched = merged.Keys.Where(name => merged[name].SequenceEqual(instruct[name])).Order(StringComparer.Ordinal);
        Assert.Equal(merged.Keys.Where(name => ParameterGroups.Of(name) is ParameterGroup.Embeddings or ParameterGroup.Norms).Order(StringComparer.Ordinal),
            untouched);
    }

    [Theory]
    [InlineData(MergeMethod.TaskArithmetic, Sparsification.None, false, false)]
    [InlineData(MergeMethod.Ties, Sparsification.Trim, true, true)]
    [InlineData(MergeMethod.DareLinear, Sparsification.Dare, false, false)]
    [InlineData(MergeMethod.DareTies, Sparsification.Dare, true, false)]
    public void Task_vector_methods_follow_their_formula(MergeMethod method, Sparsification sparsification, bool signConsensus, bool normalize)
    {
        var spec = TaskVectors(method);
        if (sparsification == Sparsification.None) spec = spec with { Density = null, Models = [new MergeModel(_math, 0.6f), new MergeModel(_code, 0.4f)] };
        Merge(spec, Output());

        AssertMerged(Output(), _base, [_math, _code],
            new ReferenceMerge.Settings(sparsification, signConsensus, normalize, Weights: [0.6f, 0.4f], Densities: [0.5, 0.7], new GroupLambdas(0.9f), Seed: 5));
    }

    [Fact]
    public void Normalize_overrides_the_method_default()
    {
        Merge(TaskVectors(MergeMethod.Ties) with { Normalize = false }, Output());
        AssertMerged(Output(), _base, [_math, _code],
            new ReferenceMerge.Settings(Sparsification.Trim, true, false, [0.6f, 0.4f], [0.5, 0.7], new GroupLambdas(0.9f)));
    }

    [Fact]
    public void Sharded_inputs_and_sharded_output_give_the_same_tensors_as_single_files()
    {
        var shardedBase = MergeModels.Write(_directory.File("base-sharded"), seed: 1, maxShardBytes: 5000);
        var shardedCoarse = MergeModels.Write(_directory.File("coarse-sharded"), seed: 2, maxShardBytes: 3000);
        Assert.True(File.Exists(Path.Combine(shardedBase, SafeTensorsIndex.FileName)));

        Merge(Krm with { Refine = Sparsification.Trim, Density = 0.5 }, Output("single"));
        var result = Merge(MergeSpec.Krm(shardedBase, shardedCoarse, _instruct) with
        {
            Refine = Sparsification.Trim, Density = 0.5, Storage = DType.F32, MaxShardBytes = 4000,
        }, Output("sharded"));

        Assert.True(result.WeightFiles.Count > 3);
        Assert.True(File.Exists(Path.Combine(Output("sharded"), SafeTensorsIndex.FileName)));
        var (single, sharded) = (MergeModels.Read(Output("single")), MergeModels.Read(Output("sharded")));
        Assert.Equal(single.Keys.Order(StringComparer.Ordinal), sharded.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, values) in single) AssertBitwiseEqual(name, values, sharded[name]);
    }

    [Fact]
    public void Bf16_output_is_the_float32_merge_rounded_to_nearest_even()
    {
        Merge(Krm, Output("f32"));
        Merge(Krm with { Storage = DType.BF16 }, Output("bf16"));

        using var checkpoint = SafeTensorsCheckpoint.Open(Output("bf16"));
        Assert.All(checkpoint.Tensors, info => Assert.Equal(SafeTensorsDType.BF16, info.DType));
        foreach (var (name, values) in MergeModels.Read(Output("f32")))
            AssertBitwiseEqual(name, values.Select(v => BFloat16.ToSingle(BFloat16.FromSingle(v))).ToArray(), checkpoint.ReadFloats(name));
        Assert.Equal("bfloat16", JsonNode.Parse(File.ReadAllText(Path.Combine(Output("bf16"), "config.json")))!["torch_dtype"]!.GetValue<string>());
    }

    [Fact]
    public void Config_and_tokenizer_come_from_the_instruct_model_and_the_default_dtype_is_its_torch_dtype()
    {
        var instruct = MergeModels.Write(_directory.File("instruct-bf16"), seed: 3, storage: DType.BF16);
        var configPath = Path.Combine(instruct, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_note"] = "kept";
        File.WriteAllText(configPath, config.ToJsonString());
        File.WriteAllBytes(Path.Combine(instruct, "tokenizer.model"), [1, 2, 3]);
        File.WriteAllText(Path.Combine(_base, "tokenizer_config.json"), "{\"from\": \"base\"}");

        var result = Merge(MergeSpec.Krm(_base, _coarse, instruct), Output());

        Assert.Equal(DType.BF16, result.Storage);
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(Output(), "config.json")))!.AsObject();
        Assert.Equal("kept", written["chat_note"]!.GetValue<string>());
        Assert.Equal("bfloat16", written["torch_dtype"]!.GetValue<string>());
        Assert.Equal([1, 2, 3], File.ReadAllBytes(Path.Combine(Output(), "tokenizer.model")));
        Assert.False(File.Exists(Path.Combine(Output(), "tokenizer_config.json")));
    }

    [Fact]
    public void A_failure_part_way_leaves_no_output_and_no_staging_directory()
    {
        var poisoned = MergeModels.Write(_directory.File("poisoned"), seed: 2, poisonedTensor: "model.norm.weight");

        var error = Assert.Throws<CheckpointException>(() => Merge(MergeSpec.Krm(_base, poisoned, _instruct), Output()));

        Assert.Contains(poisoned, error.Message);
        Assert.Contains("model.norm.weight", error.Message);
        Assert.Contains("non-finite", error.Message);
        Assert.False(Directory.Exists(Output()));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_directory.Path, ".out.*"));
    }

    [Fact]
    public void A_non_empty_output_directory_is_replaced_only_when_asked()
    {
        Directory.CreateDirectory(Output());
        File.WriteAllText(Path.Combine(Output(), "old.txt"), "old");

        var error = Assert.Throws<IOException>(() => Merge(Krm, Output()));
        Assert.Contains("not empty", error.Message);
        Assert.True(File.Exists(Path.Combine(Output(), "old.txt")));

        Merge(Krm, Output(), replace: true);
        Assert.False(File.Exists(Path.Combine(Output(), "old.txt")));
        Assert.True(File.Exists(Path.Combine(Output(), SafeTensorsCheckpoint.SingleFileName)));
    }

    [Fact]
    public void The_output_cannot_be_an_input()
    {
        var error = Assert.Throws<ArgumentException>(() => Merge(Krm, _coarse + "/", replace: true));
        Assert.Contains("coarse", error.Message);
        Assert.True(File.Exists(Path.Combine(_coarse, SafeTensorsCheckpoint.SingleFileName)));
    }

    [Fact]
    public void Progress_is_reported_once_per_tensor_in_order()
    {
        var reports = new List<MergeProgress>();
        Merge(Krm, Output(), new SynchronousProgress(reports.Add));

        Assert.Equal(Enumerable.Range(1, 21), reports.Select(report => report.Tensor));
        Assert.All(reports, report => Assert.Equal(21, report.TensorCount));
        Assert.Equal(reports[^1].TotalElements, reports[^1].ElementsDone);
        Assert.Equal(MergeModels.Read(_base).Keys, reports.Select(report => report.Name));
    }

    private static void AssertMerged(string output, string anchor, string[] models, ReferenceMerge.Settings settings)
    {
        var merged = MergeModels.Read(output);
        var (anchorTensors, baseTensors) = (MergeModels.Read(anchor), MergeModels.Read(Path.Combine(Path.GetDirectoryName(output)!, "base")));
        var modelTensors = models.Select(MergeModels.Read).ToArray();
        foreach (var (name, values) in merged)
        {
            var expected = ReferenceMerge.Tensor(name, anchorTensors[name], baseTensors[name], modelTensors.Select(m => m[name]).ToArray(), settings);
            AssertBitwiseEqual(name, expected, values);
        }
    }

    private static void AssertBitwiseEqual(string name, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{name}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    private sealed class SynchronousProgress(Action<MergeProgress> report) : IProgress<MergeProgress>
    {
        public void Report(MergeProgress value) => report(value);
    }
}
