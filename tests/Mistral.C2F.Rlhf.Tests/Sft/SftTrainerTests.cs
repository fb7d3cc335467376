using Mistral.C2F.Rlhf.Training;
using Mistral.C2F.Engine.Tests.Support;
using System.Text.Json.Nodes;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Training;
using Mistral.C2F.Rlhf.Sft;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Sft;

[Trait("Backend", "cpu")]
public sealed class SftTrainerTests : IDisposable
{
    private readonly TemporaryDirectory _directory = new();
    private readonly RunSpec<SftOptions> _spec;

    public SftTrainerTests()
    {
        var model = TinyCheckpoint.Write(Path.Combine(_directory.Path, "base"));
        var data = Path.Combine(_directory.Path, "data.jsonl");
        BuiltInSftData.Write(data, count: 96);
        _spec = new RunSpec<SftOptions>(model, data, new SftOptions
        {
            Steps = 6, BatchSize = 4, MicroBatchSize = 2, SequenceLength = 32, LearningRate = 3e-3, WarmupSteps = 2, SaveEvery = 3, Seed = 11,
        });
    }

    public void Dispose() => _directory.Dispose();

    private static Backend Cpu() => new CpuBackend(2);

    private string Run(string name) => Path.Combine(_directory.Path, name);

    private static double?[] Losses(string runDirectory) =>
        File.ReadLines(Path.Combine(runDirectory, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!["loss"]?.GetValue<double>()).ToArray();

    private static float[] Weights(string checkpoint, string name)
    {
        using var file = SafeTensorsCheckpoint.Open(checkpoint);
        return file.ReadFloats(name);
    }

    [Fact]
    public void A_resumed_run_repeats_the_uninterrupted_run_bit_for_bit()
    {
        using (var trainer = SftTrainer.Start(_spec, Run("straight"), Cpu())) trainer.Run(cancellation: TestContext.Current.CancellationToken);
        // Interrupt the second run after step 3 (Ctrl-C saves a checkpoint and stops), then resume it.
        using (var interrupt = new CancellationTokenSource())
        using (var trainer = SftTrainer.Start(_spec, Run("resumed"), Cpu()))
        {
            trainer.AfterBackward = (step, _) =>
            {
                if (step == 3) interrupt.Cancel();
            };
            Assert.ThrowsAny<OperationCanceledException>(() => trainer.Run(cancellation: interrupt.Token));
        }
        using (var trainer = SftTrainer.Resume(Run("resumed"), Cpu()))
        {
            Assert.Equal(3, trainer.Step);
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        }

        var straight = Losses(Run("straight"));
        Assert.Equal(6, straight.Length);
        Assert.Equal(straight, Losses(Run("resumed")));
        foreach (var name in new[] { "model.embed_tokens.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight" })
            Assert.Equal(Weights(Path.Combine(Run("straight"), "checkpoint-000006"), name), Weights(Path.Combine(Run("resumed"), "checkpoint-000006"), name));
    }

    [Fact]
    public void A_step_with_a_non_finite_gradient_is_skipped_counted_and_training_goes_on()
    {
        using var trainer = SftTrainer.Start(_spec, Run("nan"), Cpu());
        trainer.AfterBackward = (step, gradients) =>
        {
            if (step == 2) trainer.Poison(gradients["model.layers.0.self_attn.q_proj.weight"]);
        };
        trainer.Run(cancellation: TestContext.Current.CancellationToken);

        var lines = File.ReadLines(trainer.MetricsPath).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.True(lines[1]["skipped"]!.GetValue<bool>());
        Assert.Null(lines[1]["grad_norm"]);
        Assert.All(lines.Where((_, i) => i != 1), l => Assert.False(l["skipped"]!.GetValue<bool>()));
        Assert.Equal(1, lines[^1]["skipped_steps"]!.GetValue<int>());
        Assert.All(Weights(Path.Combine(Run("nan"), "checkpoint-000006"), "model.layers.0.self_attn.q_proj.weight"), w => Assert.True(float.IsFinite(w)));
    }

    [Fact]
    public void Too_many_non_finite_steps_in_a_row_stop_the_run_and_keep_the_last_good_checkpoint()
    {
        using var trainer = SftTrainer.Start(_spec with { Options = _spec.Options with { MaxConsecutiveSkips = 1 } }, Run("diverged"), Cpu());
        trainer.AfterBackward = (step, gradients) =>
        {
            if (step >= 4) trainer.Poison(gradients["model.norm.weight"]);
        };
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Run(cancellation: TestContext.Current.CancellationToken));
        Assert.Contains("2 steps in a row", error.Message);
        Assert.Contains("checkpoint-000003", error.Message);
        using var model = MistralCheckpoint.LoadModel(Path.Combine(Run("diverged"), "checkpoint-000003"), Cpu());
    }

    [Fact]
    public void Resuming_against_changed_data_is_refused()
    {
        using (var trainer = SftTrainer.Start(_spec with { Options = _spec.Options with { Steps = 3 } }, Run("changed"), Cpu()))
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        BuiltInSftData.Write(_spec.DataPath, count: 96, seed: 99);
        var error = Assert.Throws<InvalidDataException>(() => SftTrainer.Resume(Run("changed"), Cpu(), o => o with { Steps = 6 }));
        Assert.Contains("the data changed", error.Message);
        Assert.Throws<IOException>(() => SftTrainer.Start(_spec, Run("changed"), Cpu()));
    }

    /// <summary>A checkpoint written before checkpoints always carried the tokenizer resumes with the starting model's, said in a warning.</summary>
    [Fact]
    public void A_checkpoint_without_a_tokenizer_resumes_with_the_starting_model_s_and_the_next_checkpoints_carry_it()
    {
        using (var trainer = SftTrainer.Start(_spec with { Options = _spec.Options with { Steps = 3 } }, Run("old"), Cpu()))
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        File.Delete(Path.Combine(Run("old"), "checkpoint-000003", "tokenizer.model"));
        var warnings = new List<string>();
        using (Warnings.Redirect(warnings.Add))
        using (var trainer = SftTrainer.Resume(Run("old"), Cpu(), o => o with { Steps = 6 }))
            trainer.Run(cancellation: TestContext.Current.CancellationToken);
        Assert.Contains(warnings, w => w.Contains("checkpoint-000003 holds no tokenizer.model; taking the tokenizer of"));
        Assert.Equal(File.ReadAllBytes(Path.Combine(_spec.ModelDirectory, "tokenizer.model")),
            File.ReadAllBytes(Path.Combine(Run("old"), "checkpoint-000006", "tokenizer.model")));
    }
}
