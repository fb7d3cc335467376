using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Checkpoints;

namespace Mistral.C2F.Rlhf.Tests.Hostile;

/// <summary>
/// Damaged model directories through <c>c2f dump</c> as a child process: each must fail with one line on stderr that
/// names the file and the problem, within 60 s and 1 GiB of resident memory (a config naming a billion layers once grew
/// past 7 GB, a FIFO blocked forever), or show its documented behaviour.
/// </summary>
[Trait("Backend", "cpu")]
public sealed class HostileModelTests(HostileModels models) : IClassFixture<HostileModels>
{
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(60);
    public const long MemoryLimit = 1L << 30;

    private sealed record Case(bool Sharded, Action<HostileModels, string> Damage, string File, params string[] Problem);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // Issue 16 §3: settings that change the model are refused.
        ["gelu activation"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["hidden_act"] = "gelu"), "config.json", "'hidden_act' is \"gelu\"", "only \"silu\""),
        ["llama model type"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["model_type"] = "llama"), "config.json", "'model_type' is \"llama\""),
        ["rope scaling"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["rope_scaling"] = JsonNode.Parse("""{"type": "linear", "factor": 2}""")), "config.json", "'rope_scaling'"),
        ["attention bias"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["attention_bias"] = true), "config.json", "'attention_bias' is true"),
        ["no positions"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["max_position_embeddings"] = 0), "config.json", "max_position_embeddings must be positive"),
        ["tied but a different lm_head"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["tie_word_embeddings"] = true), "model.safetensors",
            "tie_word_embeddings", "'lm_head.weight' differs from 'model.embed_tokens.weight'"),
        // §4: inputs that hung or ate memory.
        ["a billion layers"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["num_hidden_layers"] = 1_000_000_000), "config.json", "num_hidden_layers 1000000000", "limit of 4096"),
        ["weights are a FIFO"] = new(false, (_, m) => HostileModels.ReplaceWithFifo(Path.Combine(m, "model.safetensors")), "model.safetensors", "not a regular file (a FIFO)"),
        ["config is a FIFO"] = new(false, (_, m) => HostileModels.ReplaceWithFifo(Path.Combine(m, "config.json")), "config.json", "not a regular file (a FIFO)"),
        ["weights link outside"] = new(false, (h, m) => h.ReplaceWithOutsideLink(Path.Combine(m, "model.safetensors")), "model.safetensors", "symbolic link", "outside the model directory"),
        ["shard links outside"] = new(true, (h, m) => h.ReplaceWithOutsideLink(Directory.EnumerateFiles(m, "model-00002-*").Single()), "model-00002-", "symbolic link", "outside the model directory"),
        ["shard is a FIFO"] = new(true, (_, m) => HostileModels.ReplaceWithFifo(Directory.EnumerateFiles(m, "model-00001-*").Single()), "model-00001-", "not a regular file (a FIFO)"),
        // §6: messages name the file and the key.
        ["duplicate key"] = new(false, (_, m) => File.WriteAllText(Path.Combine(m, "config.json"),
            File.ReadAllText(Path.Combine(m, "config.json")).Replace("{", "{\"hidden_size\": 128, ")), "config.json", "key 'hidden_size' appears twice"),
        ["head dim 2^30"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["head_dim"] = 1 << 30), "config.json", "q_proj", "a tensor holds at most 2147483647"),
        ["negative vocabulary"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["vocab_size"] = -5), "config.json", "vocab_size (-5)", "must be positive"),
        ["size beyond int"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["hidden_size"] = 1e12), "config.json", "'hidden_size' is 1000000000000", "not an integer"),
        ["size as text"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["vocab_size"] = "big"), "config.json", "'vocab_size' has the wrong type", "expected an integer"),
        ["heads not a multiple"] = new(false, (_, m) => HostileModels.EditConfig(m, c => c["num_key_value_heads"] = 3), "config.json", "multiple of num_key_value_heads"),
        ["config is a list"] = new(false, (_, m) => File.WriteAllText(Path.Combine(m, "config.json"), "[]"), "config.json", "expected a JSON object"),
        ["config cut short"] = new(false, (_, m) => File.WriteAllText(Path.Combine(m, "config.json"), "{\"vocab_size\": 7"), "config.json", "malformed JSON"),
        // §2: non-finite weights are refused on load.
        ["NaN in q_proj"] = new(false, (_, m) => HostileModels.Poke(Path.Combine(m, "model.safetensors"), "model.layers.0.self_attn.q_proj.weight", 0, float.NaN),
            "model.safetensors", "tensor 'model.layers.0.self_attn.q_proj.weight' has a non-finite value (NaN) at element 0"),
        ["infinity in a norm"] = new(false, (_, m) => HostileModels.Poke(Path.Combine(m, "model.safetensors"), "model.norm.weight", 5, float.PositiveInfinity),
            "model.safetensors", "'model.norm.weight' has a non-finite value"),
        // Damage the loaders already caught, kept here so that the console's one-line error stays as it is.
        ["truncated weights"] = new(false, (_, m) => { using var f = File.OpenWrite(Path.Combine(m, "model.safetensors")); f.SetLength(f.Length / 2); },
            "model.safetensors", "outside the data region", "truncated?"),
        ["missing tokenizer"] = new(false, (_, m) => File.Delete(Path.Combine(m, "tokenizer.model")), "tokenizer.model", "not found"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_damaged_model_fails_in_one_line_naming_the_file_within_bounds(string name)
    {
        var @case = Cases[name];
        var model = models.Copy(@case.Sharded ? models.Sharded : models.Single, name.Replace(' ', '-'));
        @case.Damage(models, model);
        var command = name == "missing tokenizer"
            ? new[] { "generate", "--model", model, "--prompt", "hi", "--max-tokens", "2", "--threads", "1" }
            : ["dump", "--model", model, "--tokens", models.Tokens, "--out", Path.Combine(model, "dump.safetensors"), "--threads", "1"];
        var run = ConsoleProcess.Run(TimeLimit, MemoryLimit, command);
        ConsoleAssert.OneLineError(run, [@case.File, .. @case.Problem]);
    }

    [Fact]
    public void Unknown_config_keys_and_attention_dropout_are_named_in_warnings_and_the_model_runs()
    {
        var model = models.Copy(models.Single, "unknown-keys");
        HostileModels.EditConfig(model, c => (c["use_fancy_attention"], c["attention_dropout"]) = (true, 0.1));
        var run = ConsoleProcess.Run(TimeLimit, MemoryLimit, "dump", "--model", model, "--tokens", models.Tokens, "--out", Path.Combine(model, "d.safetensors"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains(run.ErrorLines, l => l.StartsWith("c2f: warning:") && l.Contains("ignored key(s) use_fancy_attention"));
        Assert.Contains(run.ErrorLines, l => l.StartsWith("c2f: warning:") && l.Contains("attention_dropout 0.1 is ignored"));
    }

    /// <summary>
    /// §2's documented behaviour: with --allow-non-finite a NaN weight propagates as IEEE arithmetic does, so the dumped loss
    /// is NaN on the float32 CPU backend and on the float64 reference alike (they once gave two different finite losses);
    /// generation refuses a NaN logit instead of picking its token.
    /// </summary>
    [Fact]
    public void With_allow_non_finite_a_nan_weight_gives_a_nan_loss_on_every_backend_and_generation_stops()
    {
        var model = models.Copy(models.Single, "nan-allowed");
        HostileModels.Poke(Path.Combine(model, "model.safetensors"), "model.layers.0.self_attn.q_proj.weight", 0, float.NaN);
        foreach (var backend in new[] { "cpu", "reference" })
        {
            var dump = Path.Combine(model, $"{backend}.safetensors");
            var run = ConsoleProcess.Run(TimeLimit, MemoryLimit, "dump", "--model", model, "--tokens", models.Tokens, "--out", dump,
                "--backend", backend, "--allow-non-finite");
            Assert.True(run.ExitCode == 0, run.ToString());
            using var file = SafeTensorsFile.Open(dump);
            Assert.True(float.IsNaN(file.ReadFloats("loss")[0]), $"{backend}: loss {file.ReadFloats("loss")[0]}");
            Assert.All(file.ReadFloats("logits"), logit => Assert.True(float.IsNaN(logit), $"{backend}: a logit stayed {logit}"));
        }

        var headRow = models.Copy(models.Single, "nan-head");
        HostileModels.Poke(Path.Combine(headRow, "model.safetensors"), "lm_head.weight", 42 * 128, float.NaN);
        var generate = ConsoleProcess.Run(TimeLimit, MemoryLimit, "generate", "--model", headRow, "--prompt", "hello", "--max-tokens", "3", "--allow-non-finite");
        ConsoleAssert.OneLineError(generate, "the model gave the logit NaN to token 42", "not finite");
    }
}
