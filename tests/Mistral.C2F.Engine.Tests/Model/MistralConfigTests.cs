using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Model;

[Trait("Backend", "cpu")]
public sealed class MistralConfigTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    private const string Mistral7B = """
        {
          "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
          "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
          "model_type": "mistral", "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
          "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": false,
          "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0", "use_cache": true, "vocab_size": 32000
        }
        """;

    private MistralConfig Load(string json)
    {
        var path = _directory.File("config.json");
        File.WriteAllText(path, json);
        return MistralConfig.Load(path);
    }

    [Fact]
    public void Reads_the_Mistral_7B_config_ignoring_unknown_keys()
    {
        var config = Load(Mistral7B);
        Assert.Equal(MistralPresets.Get("mistral-7b") with { HeadDimOverride = 128 }, config with { HeadDimOverride = 128 });
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(1e-5, config.RmsNormEps);
    }

    [Fact]
    public void A_null_sliding_window_means_full_attention_and_save_round_trips()
    {
        var json = JsonNode.Parse(Mistral7B)!.AsObject();
        json["sliding_window"] = null;
        var config = Load(json.ToJsonString());
        Assert.Null(config.SlidingWindow);
        var path = _directory.File("saved.json");
        config.Save(path);
        Assert.Equal(config with { HeadDimOverride = 128 }, MistralConfig.Load(path));
    }

    [Theory]
    [InlineData("vocab_size")]
    [InlineData("hidden_size")]
    [InlineData("num_key_value_heads")]
    public void Missing_required_keys_are_named(string key)
    {
        var json = JsonNode.Parse(Mistral7B)!.AsObject();
        json.Remove(key);
        var error = Assert.Throws<InvalidDataException>(() => Load(json.ToJsonString()));
        Assert.Contains("config.json", error.Message);
        Assert.Contains(key, error.Message);
    }

    [Theory]
    [InlineData("num_key_value_heads", "5", "multiple of num_key_value_heads")]
    [InlineData("hidden_size", "\"big\"", "wrong type")]
    [InlineData("sliding_window", "0", "sliding_window")]
    [InlineData("eos_token_id", "40000", "inside the vocabulary")]
    [InlineData("hidden_act", "\"gelu\"", "'hidden_act' is \"gelu\"; this engine implements only \"silu\"")]
    [InlineData("model_type", "\"llama\"", "'model_type' is \"llama\"")]
    [InlineData("rope_scaling", "{\"type\": \"dynamic\", \"factor\": 4}", "'rope_scaling'")]
    [InlineData("attention_bias", "true", "'attention_bias' is true")]
    [InlineData("mlp_bias", "true", "'mlp_bias' is true")]
    [InlineData("max_position_embeddings", "0", "max_position_embeddings must be positive, got 0")]
    [InlineData("num_hidden_layers", "1000000000", "num_hidden_layers 1000000000 is more than this engine's limit of 4096")]
    [InlineData("head_dim", "1073741824", "q_proj (num_attention_heads × head_dim × hidden_size) would hold")]
    [InlineData("vocab_size", "1e3", "'vocab_size' is 1e3, not an integer")]
    [InlineData("intermediate_size", "99999999999", "'intermediate_size' is 99999999999, not an integer")]
    [InlineData("rms_norm_eps", "\"tiny\"", "'rms_norm_eps' has the wrong type")]
    [InlineData("architectures", "[\"A\", \"B\"]", "'architectures'")]
    public void Invalid_values_and_settings_the_engine_does_not_run_are_explained_naming_the_key(string key, string value, string problem)
    {
        var json = JsonNode.Parse(Mistral7B)!.AsObject();
        json[key] = JsonNode.Parse(value);
        var error = Assert.Throws<InvalidDataException>(() => Load(json.ToJsonString()));
        Assert.Contains("config.json", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Malformed_json_names_the_file()
    {
        var error = Assert.Throws<InvalidDataException>(() => Load("{ \"vocab_size\": 3"));
        Assert.Contains("config.json: malformed JSON", error.Message);
    }

    [Fact]
    public void A_key_given_twice_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => Load(Mistral7B.Replace("\"vocab_size\": 32000", "\"vocab_size\": 32000, \"vocab_size\": 32768")));
        Assert.Contains("config.json: key 'vocab_size' appears twice", error.Message);
    }

    [Fact]
    public void Keys_the_engine_ignores_are_named_in_one_warning_and_metadata_in_none()
    {
        var json = JsonNode.Parse(Mistral7B)!.AsObject();
        (json["quantization_config"], json["attention_dropout"], json["_name_or_path"]) = (JsonNode.Parse("{}"), 0.0, "x");
        var warnings = new List<string>();
        using (Warnings.Redirect(warnings.Add)) Load(json.ToJsonString());
        Assert.Contains("config.json: ignored key(s) quantization_config: not part of the Mistral architecture", Assert.Single(warnings));

        json["attention_dropout"] = 0.1;
        warnings.Clear();
        using (Warnings.Redirect(warnings.Add)) Load(json.ToJsonString());
        Assert.Contains(warnings, w => w.Contains("attention_dropout 0.1 is ignored"));
    }

    [Fact]
    public void Positions_beyond_max_position_embeddings_are_refused_by_name()
    {
        var config = Load(Mistral7B);
        config.RequirePositions(32768, "--seq");
        var error = Assert.Throws<ArgumentException>(() => config.RequirePositions(32769, "the sequence length (--seq)"));
        Assert.Equal("the sequence length (--seq) (32769) is more than the model's max_position_embeddings (32768)", error.Message);
    }
}
