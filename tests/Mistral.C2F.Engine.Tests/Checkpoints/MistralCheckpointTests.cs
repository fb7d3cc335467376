using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using static Mistral.C2F.Engine.Tests.Checkpoints.SafeTensorsSurgery;

namespace Mistral.C2F.Engine.Tests.Checkpoints;

[Trait("Backend", "cpu")]
public sealed class MistralCheckpointTests : IDisposable
{
    private static readonly MistralConfig Tiny = new()
    {
        VocabSize = 37, HiddenSize = 16, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2, IntermediateSize = 24,
    };

    private readonly TemporaryDirectory _directory = new();
    private readonly CpuBackend _cpu = new(1);
    private readonly Random _random = new(11);

    public void Dispose()
    {
        _cpu.Dispose();
        _directory.Dispose();
    }

    /// <summary>Random values per parameter that BF16 stores exactly, so every storage type round-trips bit for bit.</summary>
    private Dictionary<string, float[]> RandomParameters(MistralConfig config) =>
        MistralParameterNames.For(config).ToDictionary(p => p.Name,
            p => Numerics.RandomFloats(_random, p.Shape.ElementCount).Select(v => BFloat16.ToSingle(BFloat16.FromSingle(v))).ToArray());

    /// <summary>A weights file holding exactly the given tensors (for checkpoints that do not match a config).</summary>
    private void WriteWeights(IEnumerable<(string Name, Shape Shape)> tensors, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        var list = tensors.Select(t => new SafeTensorInfo(t.Name, dtype, t.Shape)).ToArray();
        using var writer = new ShardedSafeTensorsWriter(_directory.Path, list, MistralCheckpoint.DefaultMaxShardBytes);
        foreach (var info in list) writer.WriteRaw(info.Name, new byte[info.ByteLength]);
        writer.Commit();
    }

    private string ShardOf(string tensor)
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(_directory.Path);
        return Path.GetFileName(checkpoint.FileOf(tensor));
    }

    [Theory]
    [InlineData(false, DType.F32, 1_000_000L)]
    [InlineData(false, DType.BF16, 3000L)] // several shards
    [InlineData(true, DType.F16, 1_000_000L)]
    [InlineData(true, DType.BF16, 3000L)]
    public void Saved_parameters_load_back_identical(bool tied, DType storage, long maxShardBytes)
    {
        var config = Tiny with { TieWordEmbeddings = tied };
        var values = RandomParameters(config);
        var tensors = values.Select(p => (p.Key, _cpu.FromFloats(p.Value, MistralParameterNames.For(config).Single(e => e.Name == p.Key).Shape.ToArray())))
            .Reverse().ToArray(); // any order
        MistralCheckpoint.SaveParameters(_directory.Path, config, tensors, storage, maxShardBytes);

        var savedConfig = MistralCheckpoint.LoadConfig(_directory.Path);
        // MistralConfig.Save always writes head_dim, so it comes back as an override.
        Assert.Equal(config with
        {
            TorchDtype = storage == DType.F32 ? "float32" : storage == DType.BF16 ? "bfloat16" : "float16",
            HeadDimOverride = config.HeadDim,
        }, savedConfig);
        Assert.Equal(maxShardBytes < 10_000, File.Exists(_directory.File(SafeTensorsIndex.FileName)));

        var loaded = MistralCheckpoint.LoadParameters(_directory.Path, savedConfig, _cpu);
        Assert.Equal(values.Keys.Order(), loaded.Keys.Order());
        Assert.Equal(!tied, loaded.ContainsKey(MistralParameterNames.LmHead));
        foreach (var (name, expected) in values)
        {
            Assert.Equal(DType.F32, loaded[name].DType);
            Assert.Equal(expected, _cpu.ToFloats(loaded[name]));
        }
    }

    [Fact]
    public void Parameters_load_onto_a_float64_backend_in_its_float_type()
    {
        var values = RandomParameters(Tiny);
        MistralCheckpoint.SaveParameters(_directory.Path, Tiny, (name, _, destination) => values[name].CopyTo(destination), DType.BF16,
            MistralCheckpoint.DefaultMaxShardBytes);
        using var reference = new ReferenceBackend();
        var loaded = MistralCheckpoint.LoadParameters(_directory.Path, Tiny, reference);
        Assert.All(loaded.Values, tensor => Assert.Equal(DType.F64, tensor.DType));
        Assert.Equal(values[MistralParameterNames.Embedding].Select(v => (double)v), reference.ToDoubles(loaded[MistralParameterNames.Embedding]));
    }

    [Fact]
    public void The_streaming_save_asks_for_each_parameter_once_in_checkpoint_order()
    {
        var asked = new List<(string, Shape)>();
        MistralCheckpoint.SaveParameters(_directory.Path, Tiny, (name, shape, destination) =>
        {
            asked.Add((name, shape));
            Assert.Equal(shape.ElementCount, destination.Length);
            destination.Fill(asked.Count);
        }, DType.F32, maxShardBytes: 2000);

        Assert.Equal(MistralParameterNames.For(Tiny), asked);
        var loaded = MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu);
        for (int i = 0; i < asked.Count; i++) Assert.All(_cpu.ToFloats(loaded[asked[i].Item1]), v => Assert.Equal(i + 1, v));
    }

    [Fact]
    public void A_save_that_fails_midway_keeps_the_previous_checkpoint_and_config()
    {
        var values = RandomParameters(Tiny);
        MistralCheckpoint.SaveParameters(_directory.Path, Tiny, (name, _, destination) => values[name].CopyTo(destination), DType.BF16, 3000);
        var before = _directory.FileNames().ToDictionary(name => name, name => File.ReadAllBytes(_directory.File(name)));

        int produced = 0;
        void FailingSave() => MistralCheckpoint.SaveParameters(_directory.Path, Tiny with { RopeTheta = 1e6 }, (_, _, destination) =>
        {
            if (++produced == 7) throw new TimeoutException("the random init failed midway");
            destination.Fill(0.5f);
        }, DType.BF16, 3000);
        Assert.Throws<TimeoutException>(FailingSave);

        Assert.Equal(before.Keys, _directory.FileNames());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, File.ReadAllBytes(_directory.File(name)));
        var loaded = MistralCheckpoint.LoadParameters(_directory.Path, MistralCheckpoint.LoadConfig(_directory.Path), _cpu);
        Assert.Equal(values[MistralParameterNames.FinalNorm], _cpu.ToFloats(loaded[MistralParameterNames.FinalNorm]));
    }

    [Fact]
    public void A_tied_checkpoint_that_also_holds_lm_head_loads_and_ignores_it()
    {
        var tied = Tiny with { TieWordEmbeddings = true };
        WriteWeights(MistralParameterNames.For(tied).Append((MistralParameterNames.LmHead, new Shape(37, 16))));
        var loaded = MistralCheckpoint.LoadParameters(_directory.Path, tied, _cpu);
        Assert.False(loaded.ContainsKey(MistralParameterNames.LmHead));
        Assert.Equal(MistralParameterNames.For(tied).Count, loaded.Count);
    }

    [Fact]
    public void A_tied_checkpoint_with_an_lm_head_of_another_shape_is_rejected()
    {
        var tied = Tiny with { TieWordEmbeddings = true };
        WriteWeights(MistralParameterNames.For(tied).Append((MistralParameterNames.LmHead, new Shape(38, 16))));
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, tied, _cpu), "model.safetensors",
            "unexpected tensor(s) 'lm_head.weight'");
    }

    [Fact]
    public void A_missing_tensor()
    {
        WriteWeights(MistralParameterNames.For(Tiny).Where(p => p.Name != MistralParameterNames.LmHead));
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu), "model.safetensors",
            "missing tensor(s) 'lm_head.weight'");
    }

    [Fact]
    public void Missing_tensors_of_a_sharded_checkpoint_name_the_index()
    {
        var config = Tiny with { NumHiddenLayers = 3 };
        MistralCheckpoint.SaveParameters(_directory.Path, Tiny, (_, _, destination) => destination.Fill(1), DType.BF16, 3000);
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, config, _cpu), SafeTensorsIndex.FileName,
            "missing tensor(s) 'model.layers.2.input_layernorm.weight'", "and 4 more");
    }

    [Fact]
    public void An_unexpected_tensor()
    {
        WriteWeights(MistralParameterNames.For(Tiny).Append(("model.layers.0.self_attn.rotary_emb.inv_freq", new Shape(2))));
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu), "model.safetensors",
            "unexpected tensor(s) 'model.layers.0.self_attn.rotary_emb.inv_freq'");
    }

    [Fact]
    public void A_shape_that_disagrees_with_the_config()
    {
        MistralCheckpoint.SaveParameters(_directory.Path, Tiny, (_, _, destination) => destination.Fill(1), DType.BF16, 3000);
        var wider = Tiny with { IntermediateSize = 32 };
        var shard = ShardOf("model.layers.0.mlp.gate_proj.weight");
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, wider, _cpu), shard,
            "tensor 'model.layers.0.mlp.gate_proj.weight' has shape [24, 16], but the model config implies [32, 16]");
    }

    [Fact]
    public void A_parameter_stored_as_integers()
    {
        WriteWeights(MistralParameterNames.For(Tiny), SafeTensorsDType.I32);
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu), "model.safetensors",
            "tensor 'model.embed_tokens.weight' has unsupported dtype I32");
    }

    [Fact]
    public void Non_finite_parameters_are_refused_unless_allowed()
    {
        MistralCheckpoint.SaveParameters(_directory.Path, Tiny, (name, _, destination) =>
        {
            destination.Fill(0.25f);
            if (name == "model.layers.1.self_attn.k_proj.weight") destination[19] = float.NaN;
        }, DType.BF16, 3000);
        Assert.True(float.IsNaN(_cpu.ToFloats(MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu, allowNonFinite: true)["model.layers.1.self_attn.k_proj.weight"])[19]));

        var shard = ShardOf("model.layers.1.self_attn.k_proj.weight");
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu), shard,
            "tensor 'model.layers.1.self_attn.k_proj.weight'", "non-finite value (NaN) at element 19 [1, 3]");
    }

    [Fact]
    public void A_directory_without_config_json()
    {
        WriteWeights(MistralParameterNames.For(Tiny));
        AssertRejected(() => MistralCheckpoint.LoadConfig(_directory.Path), "config.json", "not found");
    }

    [Fact]
    public void A_directory_without_weights()
    {
        Tiny.Save(_directory.File("config.json"));
        AssertRejected(() => MistralCheckpoint.LoadParameters(_directory.Path, Tiny, _cpu), _directory.Path, "no model files");
    }

    [Fact]
    public void Saving_parameters_that_do_not_match_the_config_is_refused()
    {
        var parameters = MistralParameterNames.For(Tiny).Select(p => (p.Name, _cpu.Allocate(p.Shape, DType.F32))).ToList();
        var wrongShape = parameters.Select(p => p.Name == MistralParameterNames.FinalNorm ? (p.Name, _cpu.Allocate(15)) : p);
        var error = Assert.Throws<ArgumentException>(() =>
            MistralCheckpoint.SaveParameters(_directory.Path, Tiny, wrongShape.Skip(1).Append(("extra", _cpu.Allocate(1))), DType.BF16, 3000));
        Assert.Contains("missing 'model.embed_tokens.weight'", error.Message);
        Assert.Contains("unexpected 'extra'", error.Message);
        Assert.Contains("'model.norm.weight' is [15], the config implies [16]", error.Message);
        Assert.Throws<ArgumentException>(() => MistralCheckpoint.SaveParameters(_directory.Path, Tiny, parameters, DType.F64, 3000));
        Assert.Empty(_directory.FileNames());
    }
}
