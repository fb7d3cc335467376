using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Training;

[Trait("Backend", "cpu")]
public sealed class TrainingUtilityTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Schedule_warms_up_linearly_then_follows_a_cosine_to_the_floor()
    {
        var schedule = new LearningRateSchedule(Peak: 1e-3, WarmupSteps: 10, TotalSteps: 110, MinimumRatio: 0.1);
        Assert.Equal(1e-4, schedule.At(1), 15);
        Assert.Equal(1e-3, schedule.At(10), 15);
        Assert.Equal(1e-3 * (0.1 + 0.9 * 0.5), schedule.At(60), 15); // half way through the decay
        Assert.Equal(1e-4, schedule.At(110), 15);
        Assert.Equal(1e-4, schedule.At(500), 15);
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.At(0));
    }

    [Fact]
    public void Weight_decay_skips_norms_and_embeddings_by_default()
    {
        var options = new AdamWOptions { WeightDecay = 0.1f };
        Assert.True(options.Decays("model.layers.0.self_attn.q_proj.weight"));
        Assert.False(options.Decays("model.layers.3.input_layernorm.weight"));
        Assert.False(options.Decays("model.norm.weight"));
        Assert.False(options.Decays(MistralParameterNames.Embedding));
        Assert.False(options.Decays(MistralParameterNames.LmHead));
        Assert.True((options with { DecayEmbeddings = true }).Decays(MistralParameterNames.Embedding));
    }

    [Fact]
    public void Clipping_scales_only_norms_above_the_maximum()
    {
        using var backend = new ReferenceBackend();
        var a = backend.FromFloats([3f, 0f], 2);
        var b = backend.FromFloats([4f], 1);
        var norm = backend.Allocate(1);
        backend.GlobalNorm([a, b], norm);
        Assert.Equal(5.0, backend.ToDoubles(norm)[0], 12);
        Assert.Equal(1.0, AdamWGuard.ClipScale(5.0, 10.0));
        Assert.Equal(0.2, AdamWGuard.ClipScale(5.0, 1.0), 6);
        Assert.Equal(1.0, AdamWGuard.ClipScale(5.0, 0.0));
    }

    [Fact]
    public void Optimizer_decays_only_what_it_should_and_restores_its_state()
    {
        using var backend = new ReferenceBackend();
        var names = new[] { "model.layers.0.mlp.up_proj.weight", "model.norm.weight" };
        var parameters = names.ToDictionary(n => n, _ => backend.FromFloats([1f, -2f], 2));
        var gradients = names.ToDictionary(n => n, _ => backend.FromFloats([0f, 0f], 2));
        using var optimizer = new AdamWOptimizer(backend, parameters, gradients, new AdamWOptions { WeightDecay = 0.5f });
        Assert.True(optimizer.Apply(learningRate: 0.1, maxGradNorm: 0).Updated);
        // Zero gradients leave only the decoupled decay: p ← p − lr·wd·p on the projection, nothing on the norm.
        Assert.Equal([0.95, -1.9], backend.ToDoubles(parameters[names[0]]), (x, y) => Math.Abs(x - y) < 1e-7);
        Assert.Equal([1.0, -2.0], backend.ToDoubles(parameters[names[1]]));

        var state = optimizer.State().ToDictionary(s => s.Name, s => s.Read());
        Assert.Equal(4, state.Count);
        Assert.Contains($"exp_avg_sq/{names[1]}", state.Keys);
        using var restored = new AdamWOptimizer(backend, parameters, gradients, new AdamWOptions());
        restored.Restore(name => state[name], step: 1);
        Assert.Equal(1, restored.Step);
    }

    [Fact]
    public void Checkpoints_become_latest_only_when_complete_and_old_ones_are_pruned()
    {
        var run = new CheckpointDirectory(_directory.Path, keepLast: 2);
        Assert.Null(run.Latest);
        foreach (int step in new[] { 10, 20, 30 })
            run.Save(step, directory => File.WriteAllText(Path.Combine(directory, "state.json"), $"{{\"step\": {step}}}"));
        Assert.EndsWith("checkpoint-000030", run.Latest);
        Assert.Equal(["checkpoint-000020", "checkpoint-000030"],
            Directory.EnumerateDirectories(_directory.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        // A crash while writing (here: an exception) leaves the previous checkpoint as the latest and no temporaries.
        Assert.Throws<IOException>(() => run.Save(40, directory =>
        {
            File.WriteAllText(Path.Combine(directory, "half"), "x");
            throw new IOException("disk full");
        }));
        Assert.EndsWith("checkpoint-000030", run.Latest);
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_directory.Path), e => e.EndsWith(".tmp", StringComparison.Ordinal));
    }

    /// <summary>What a kill leaves — a staging copy of a checkpoint, a pruned one renamed but not yet deleted — is hidden from view and swept by the next save.</summary>
    [Fact]
    public void Leftovers_of_a_killed_save_or_prune_stay_hidden_and_the_next_save_removes_them()
    {
        var run = new CheckpointDirectory(_directory.Path, keepLast: 2);
        run.Save(10, directory => File.WriteAllText(Path.Combine(directory, "state.json"), "{}"));
        foreach (var leftover in new[] { ".checkpoint-000012.0123.tmp", ".checkpoint-000008.4567.deleting" })
            File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(_directory.Path, leftover)).FullName, "half"), "x");
        Assert.EndsWith("checkpoint-000010", run.Latest);
        run.Save(12, directory => File.WriteAllText(Path.Combine(directory, "state.json"), "{}"));
        run.Save(14, directory => File.WriteAllText(Path.Combine(directory, "state.json"), "{}"));
        Assert.Equal(["checkpoint-000012", "checkpoint-000014", "latest"],
            Directory.EnumerateFileSystemEntries(_directory.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Metrics_of_steps_after_the_resumed_checkpoint_are_dropped()
    {
        var path = _directory.File("metrics.jsonl");
        using (var log = new MetricsLog(path))
            for (int step = 1; step <= 5; step++) log.Write(new JsonObject { ["step"] = step, ["loss"] = 1.0 / step });
        File.AppendAllText(path, "{\"step\": 6, \"lo"); // cut short by a crash
        using (var log = new MetricsLog(path, resumedFromStep: 3)) log.Write(new JsonObject { ["step"] = 4, ["loss"] = 0.2 });
        Assert.Equal([1, 2, 3, 4], File.ReadLines(path).Select(l => JsonNode.Parse(l)!["step"]!.GetValue<int>()));
    }
}
