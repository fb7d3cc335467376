using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Rlhf.Merging;

namespace Mistral.C2F.Rlhf.Tests.Merging;

/// <summary>Inputs that cannot be merged are refused before anything is written, naming the model and the tensor or key.</summary>
[Trait("Backend", "cpu")]
public sealed class MergeCompatibilityTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly string _base, _instruct, _coarse;

    public MergeCompatibilityTests()
    {
        _base = MergeModels.Write(_directory.File("base"), seed: 1);
        _instruct = MergeModels.Write(_directory.File("instruct"), seed: 3);
        _coarse = MergeModels.Write(_directory.File("coarse"), seed: 2);
    }

    public void Dispose() => _directory.Dispose();

    private CheckpointException Refused(MergeSpec spec)
    {
        var error = Assert.Throws<CheckpointException>(() =>
            ModelMerger.Run(spec, _directory.File("out"), cancellationToken: TestContext.Current.CancellationToken));
        Assert.False(Directory.Exists(_directory.File("out")));
        return error;
    }

    [Theory]
    [InlineData("hidden_size")]
    [InlineData("num_key_value_heads")]
    [InlineData("tie_word_embeddings")]
    public void A_different_architecture_names_the_model_and_the_config_key(string key)
    {
        var config = key switch
        {
            "hidden_size" => MergeModels.Config with { HiddenSize = 32 },
            "num_key_value_heads" => MergeModels.Config with { NumKeyValueHeads = 4 },
            _ => MergeModels.Config with { TieWordEmbeddings = true },
        };
        var other = MergeModels.Write(_directory.File("other"), seed: 2, config);

        var error = Refused(MergeSpec.Krm(_base, other, _instruct));

        Assert.Equal(Path.Combine(other, "config.json"), error.FilePath);
        Assert.Contains($"coarse model has {key}", error.Message);
    }

    [Fact]
    public void A_missing_tensor_names_the_model_and_the_tensor()
    {
        MergeModels.Rewrite(_coarse, info => info.Name == "model.layers.1.mlp.up_proj.weight" ? null : info);

        var error = Refused(MergeSpec.Krm(_base, _coarse, _instruct));

        Assert.StartsWith(_coarse, error.FilePath);
        Assert.Contains("coarse model lacks tensor 'model.layers.1.mlp.up_proj.weight'", error.Message);
    }

    [Fact]
    public void An_extra_tensor_names_the_model_and_the_tensor()
    {
        MergeModels.Rewrite(_base, info => info.Name == "model.norm.weight" ? null : info);

        var error = Refused(MergeSpec.Krm(_base, _coarse, _instruct));

        Assert.StartsWith(_instruct, error.FilePath);
        Assert.Contains("the instruct model has tensor 'model.norm.weight', which the base model lacks", error.Message);
    }

    [Fact]
    public void A_different_shape_names_the_model_the_tensor_and_both_shapes()
    {
        MergeModels.Rewrite(_coarse, info => info.Name == "model.layers.0.self_attn.q_proj.weight" ? info with { Shape = new Shape(256) } : info);

        var error = Refused(MergeSpec.Krm(_base, _coarse, _instruct));

        Assert.StartsWith(_coarse, error.FilePath);
        Assert.Contains("tensor 'model.layers.0.self_attn.q_proj.weight' of the coarse model has shape [256], but the base model's is [16, 16]", error.Message);
    }

    [Fact]
    public void An_integer_tensor_is_refused_by_name()
    {
        MergeModels.Rewrite(_coarse, info => info.Name == "model.norm.weight" ? info with { DType = SafeTensorsDType.I32 } : info);

        var error = Refused(MergeSpec.Krm(_base, _coarse, _instruct));

        Assert.Contains("tensor 'model.norm.weight' of the coarse model is I32", error.Message);
    }

    [Fact]
    public void Task_vector_models_are_named_by_their_place_in_the_list()
    {
        var other = MergeModels.Write(_directory.File("other"), seed: 2, MergeModels.Config with { IntermediateSize = 48 });
        var spec = new MergeSpec { Method = MergeMethod.TaskArithmetic, Base = _base, Models = [new MergeModel(_coarse), new MergeModel(other)] };

        var error = Refused(spec);

        Assert.Contains("the models[1] model has intermediate_size 48, but the base model", error.Message);
    }
}
