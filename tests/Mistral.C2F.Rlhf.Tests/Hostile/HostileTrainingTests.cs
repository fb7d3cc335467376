using System.Text.Json;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Tests.Hostile;

/// <summary>
/// Training through the console as a child process, each run within 120 s and 1 GiB: checkpoints of resumed runs stay
/// complete, bad data and options fail in one line before any work, and nothing is silently a no-op (issue 16 §1, 4–6).
/// </summary>
[Trait("Backend", "cpu")]
public sealed class HostileTrainingTests(HostileModels models) : IClassFixture<HostileModels>
{
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(120);
    private const long MemoryLimit = 1L << 30;

    private static ConsoleRun C2f(params string[] args) => ConsoleProcess.Run(TimeLimit, MemoryLimit, args);

    private string Directory(string name) => Path.Combine(models.Root, $"{name}-{Guid.NewGuid():N}");

    private static void AssertSucceeded(ConsoleRun run) => Assert.True(run.ExitCode == 0 && run.KilledFor is null, run.ToString());

    private static readonly string[] CompleteCheckpoint =
        ["config.json", "model.safetensors", "optimizer.safetensors", "special_tokens_map.json", "tokenizer.model", "tokenizer_config.json", "trainer_state.json"];

    private static void AssertComplete(string checkpoint) =>
        Assert.Equal(CompleteCheckpoint, System.IO.Directory.EnumerateFiles(checkpoint).Select(Path.GetFileName).Order(StringComparer.Ordinal));

    /// <summary>
    /// §1: a resumed run whose first checkpoint is pruned (--keep 2) once wrote checkpoints without tokenizer.model, which
    /// the next --resume and c2f generate could not use.
    /// </summary>
    [Fact]
    public void Checkpoints_of_a_resumed_sft_run_stay_complete_after_its_first_checkpoint_is_pruned()
    {
        var run = Directory("resumed-sft");
        AssertSucceeded(C2f("train", "sft", "--preset", "tiny", "--out", run, "--steps", "10", "--save-every", "5", "--seq", "32"));
        AssertSucceeded(C2f("train", "sft", "--out", run, "--resume", "--steps", "30", "--save-every", "5"));
        Assert.False(System.IO.Directory.Exists(Path.Combine(run, "checkpoint-000010")), "the checkpoint the resume started from was pruned");
        AssertComplete(Path.Combine(run, "checkpoint-000030"));
        AssertSucceeded(C2f("train", "sft", "--out", run, "--resume", "--steps", "35"));
        AssertComplete(Path.Combine(run, "checkpoint-000035"));
        AssertSucceeded(C2f("generate", "--model", Path.Combine(run, "checkpoint-000035"), "--prompt", "Sort 3, 1, 2:", "--max-tokens", "4"));
    }

    [Fact]
    public void Checkpoints_of_a_resumed_reward_model_run_stay_complete()
    {
        var data = Path.Combine(models.Root, $"pairs-{Guid.NewGuid():N}.jsonl");
        PreferenceJsonl.Write(data, Enumerable.Range(0, 12).Select(i => new PreferencePair($"What is {i}+1?", $"{i + 1}", $"{i + 2}")));
        var run = Directory("resumed-rm");
        AssertSucceeded(C2f("train", "rm", "--model", models.Single, "--data", data, "--out", run, "--steps", "4", "--save-every", "2", "--batch", "4"));
        // Saves at 6, 8 and 10 with two kept: checkpoint 4, where the resume started, is gone before the save at 10.
        AssertSucceeded(C2f("train", "rm", "--out", run, "--resume", "--steps", "10"));
        Assert.False(System.IO.Directory.Exists(Path.Combine(run, "checkpoint-000004")));
        var checkpoint = Path.Combine(run, "checkpoint-000010");
        Assert.Contains("tokenizer.model", System.IO.Directory.EnumerateFiles(checkpoint).Select(Path.GetFileName));
        AssertSucceeded(C2f("train", "rm", "--out", run, "--resume", "--steps", "12"));
    }

    /// <summary>The reward model's centering and grouping options: a bad coefficient, and either option on a resume (which keeps the run's own).</summary>
    [Fact]
    public void Reward_model_centering_and_grouping_are_refused_where_they_cannot_apply()
    {
        var data = Path.Combine(models.Root, $"pairs-{Guid.NewGuid():N}.jsonl");
        PreferenceJsonl.Write(data, Enumerable.Range(0, 8).Select(i => new PreferencePair($"What is {i}+1?", $"{i + 1}", $"{i + 2}")));
        string[] start = ["train", "rm", "--model", models.Single, "--data", data, "--steps", "2", "--batch", "4"];

        ConsoleAssert.OneLineError(C2f([.. start, "--out", Directory("negative-centering"), "--center-rewards-coefficient", "-0.5"]),
            "center-rewards coefficient must be finite and ≥ 0", "-0.5");
        ConsoleAssert.OneLineError(C2f([.. start, "--out", Directory("nan-centering"), "--center-rewards-coefficient", "NaN"]), "center-rewards coefficient");
        var run = Directory("grouped-rm");
        AssertSucceeded(C2f([.. start, "--out", run, "--center-rewards-coefficient", "0.01", "--group-by-length"]));
        ConsoleAssert.OneLineError(C2f("train", "rm", "--out", run, "--resume", "--steps", "4", "--group-by-length"), "--resume", "--group-by-length");
        ConsoleAssert.OneLineError(C2f("train", "rm", "--out", run, "--resume", "--steps", "4", "--center-rewards-coefficient", "0.1"), "--resume",
            "--center-rewards-coefficient");
    }

    /// <summary>§5 for PPO, whose learning rates decay over the planned iterations: a longer resumed run is warned about.</summary>
    [Fact]
    public void A_ppo_resume_refuses_what_it_would_ignore_and_warns_of_a_new_schedule()
    {
        var pairs = Path.Combine(models.Root, $"pairs-{Guid.NewGuid():N}.jsonl");
        PreferenceJsonl.Write(pairs, Enumerable.Range(0, 8).Select(i => new PreferencePair($"What is {i}+1?", $"{i + 1}", $"{i + 2}")));
        var rewardModel = Directory("ppo-rm");
        AssertSucceeded(C2f("train", "rm", "--model", models.Single, "--data", pairs, "--out", rewardModel, "--steps", "2", "--batch", "4"));
        var prompts = Path.Combine(models.Root, $"prompts-{Guid.NewGuid():N}.jsonl");
        SftJsonlWriter.Write(prompts, Enumerable.Range(0, 8).Select(i => new PromptResponseExample($"What is {i}+1?", $"{i + 1}")));
        var run = Directory("ppo-resume");
        AssertSucceeded(C2f("train", "ppo", "--model", models.Single, "--prompts", prompts, "--reward-model", Path.Combine(rewardModel, "checkpoint-000002"),
            "--out", run, "--iterations", "2", "--rollouts", "2", "--length-limit", "4", "--max-length-limit", "8", "--save-every", "2"));

        ConsoleAssert.OneLineError(C2f("train", "ppo", "--out", run, "--resume", "--iterations", "4", "--actor-lr", "1"), "--resume", "remove --actor-lr");
        ConsoleAssert.OneLineError(C2f("train", "ppo", "--out", run, "--resume"), "is complete at step 2");
        var extended = C2f("train", "ppo", "--out", run, "--resume", "--iterations", "4");
        AssertSucceeded(extended);
        Assert.Contains(extended.ErrorLines, line => line.StartsWith("c2f: warning:") && line.Contains("planned for 2 iterations and now runs to 4"));
    }

    /// <summary>
    /// <c>--reward answer-checker</c>: PPO scored by the task's checker (the pipeline's verifiable-reward ablation) from the
    /// console, recorded in run.json with the rollouts' accuracy logged, and with <c>--validation</c> the validation accuracy;
    /// prompts or validation prompts without a checkable answer, or a validation file that is not there, are refused, and a
    /// resume cannot change the reward or the validation prompts.
    /// </summary>
    [Fact]
    public void Ppo_takes_the_answer_checker_as_its_reward_and_refuses_prompts_it_cannot_check()
    {
        var pairs = Path.Combine(models.Root, $"pairs-{Guid.NewGuid():N}.jsonl");
        PreferenceJsonl.Write(pairs, Enumerable.Range(0, 8).Select(i => new PreferencePair($"What is {i}+1?", $"{i + 1}", $"{i + 2}")));
        var rewardModel = Directory("checker-rm");
        AssertSucceeded(C2f("train", "rm", "--model", models.Single, "--data", pairs, "--out", rewardModel, "--steps", "2", "--batch", "4"));
        var reward = Path.Combine(rewardModel, "checkpoint-000002");
        string[] ppo = ["train", "ppo", "--model", models.Single, "--reward-model", reward, "--reward", "answer-checker", "--iterations", "1",
            "--rollouts", "2", "--length-limit", "4", "--max-length-limit", "8"];

        var prompts = Path.Combine(models.Root, $"prompts-{Guid.NewGuid():N}.jsonl");
        SftJsonlWriter.Write(prompts, Enumerable.Range(0, 8).Select(i => new PromptResponseExample($"What is {i}+1?", $"{i + 1}")));
        var run = Directory("checker-ppo");
        AssertSucceeded(C2f([.. ppo, "--prompts", prompts, "--validation", prompts, "--out", run]));
        Assert.Contains("\"answer_checker\"", File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Contains("objective/accuracy", File.ReadAllText(Path.Combine(run, "metrics.jsonl")));
        Assert.Contains("eval/accuracy", File.ReadAllText(Path.Combine(run, "metrics.jsonl")));
        ConsoleAssert.OneLineError(C2f("train", "ppo", "--out", run, "--resume", "--iterations", "2", "--reward", "reward-model"), "remove --reward");
        ConsoleAssert.OneLineError(C2f("train", "ppo", "--out", run, "--resume", "--iterations", "2", "--validation", prompts), "remove --validation");

        var unanswered = Path.Combine(models.Root, $"unanswered-{Guid.NewGuid():N}.jsonl");
        SftJsonlWriter.Write(unanswered, Enumerable.Range(0, 4).Select(i => new PromptResponseExample($"Greet guest {i}.", "Hello there!")));
        ConsoleAssert.OneLineError(C2f([.. ppo, "--prompts", unanswered, "--out", Directory("unanswered-ppo")]), unanswered, "has no checkable reference answer");
        ConsoleAssert.OneLineError(C2f([.. ppo, "--prompts", prompts, "--validation", unanswered, "--out", Directory("unanswered-validation")]), unanswered,
            "every validation prompt needs a reference response with a checkable answer");
        var missing = Path.Combine(models.Root, $"missing-{Guid.NewGuid():N}.jsonl");
        ConsoleAssert.OneLineError(C2f([.. ppo, "--prompts", prompts, "--validation", missing, "--out", Directory("missing-validation")]), missing);
    }

    /// <summary>§5: data with nothing to learn from once trained "successfully" with every step skipped.</summary>
    [Fact]
    public void Sft_data_longer_than_the_sequence_is_dropped_with_a_count_and_none_left_is_an_error()
    {
        var longPrompt = string.Join(' ', Enumerable.Range(0, 80).Select(i => $"word{i}"));
        var allLong = Path.Combine(models.Root, $"long-{Guid.NewGuid():N}.jsonl");
        SftJsonlWriter.Write(allLong, Enumerable.Range(0, 20).Select(_ => new PromptResponseExample(longPrompt, "ok")));
        var run = Directory("all-long");
        var refused = C2f("train", "sft", "--model", models.Single, "--data", allLong, "--out", run, "--steps", "3", "--seq", "16", "--batch", "2");
        ConsoleAssert.OneLineError(refused, allLong, "no example left with a token to learn from", "20 of 20 dropped");
        Assert.False(System.IO.Directory.Exists(Path.Combine(run, "checkpoint-000003")));

        var mixed = Path.Combine(models.Root, $"mixed-{Guid.NewGuid():N}.jsonl");
        SftJsonlWriter.Write(mixed, Enumerable.Range(0, 20).Select(i => new PromptResponseExample(i % 4 == 0 ? longPrompt : "Add 1 and 2.", "3")));
        var trained = C2f("train", "sft", "--model", models.Single, "--data", mixed, "--out", Directory("mixed"), "--steps", "3", "--seq", "16", "--batch", "2");
        AssertSucceeded(trained);
        Assert.Contains(trained.ErrorLines, line => line.StartsWith("c2f: warning:") && line.Contains("dropped 5 of 20 examples longer than the sequence length 16"));
    }

    /// <summary>§5: a resume that would train nothing, or would ignore an option, is refused; a longer run is warned about.</summary>
    [Fact]
    public void Resume_refuses_a_step_count_behind_the_run_and_options_it_would_ignore_and_warns_of_a_new_schedule()
    {
        var run = Directory("resume-misuse");
        AssertSucceeded(C2f("train", "sft", "--preset", "tiny", "--out", run, "--steps", "8", "--save-every", "4", "--seq", "32"));
        ConsoleAssert.OneLineError(C2f("train", "sft", "--out", run, "--resume", "--steps", "4"), "--steps 4", "is at step 8 already");
        ConsoleAssert.OneLineError(C2f("train", "sft", "--out", run, "--resume"), "is complete at step 8");
        ConsoleAssert.OneLineError(C2f("train", "sft", "--out", run, "--resume", "--steps", "12", "--lr", "5"), "--resume", "remove --lr");
        var extended = C2f("train", "sft", "--out", run, "--resume", "--steps", "12");
        AssertSucceeded(extended);
        Assert.Contains(extended.ErrorLines, line => line.StartsWith("c2f: warning:") && line.Contains("planned for 8 steps and now runs to 12"));
        var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "run.json"))).RootElement.GetProperty("options").GetProperty("steps").GetInt32();
        Assert.Equal(12, saved); // a later --resume continues to the new total
    }

    /// <summary>
    /// --zero1 in a single process has nothing to shard over: the run says so once and trains as without it, bit for bit;
    /// a resume takes it (it changes where the optimizer state lives, not what a step computes) and run.json never holds it.
    /// </summary>
    [Fact]
    public void Zero1_in_one_process_warns_and_trains_and_a_resume_takes_it_without_saving_it()
    {
        var (plain, sharded) = (Directory("plain"), Directory("zero1-alone"));
        AssertSucceeded(C2f("train", "sft", "--preset", "tiny", "--out", plain, "--steps", "2", "--save-every", "2", "--seq", "32"));
        var run = C2f("train", "sft", "--preset", "tiny", "--out", sharded, "--steps", "2", "--save-every", "2", "--seq", "32", "--zero1");
        AssertSucceeded(run);
        Assert.Single(run.ErrorLines, line => line == "c2f: warning: --zero1 has no effect in a single process; start the command under mpirun -np N");
        Assert.Equal(File.ReadAllBytes(Path.Combine(plain, "checkpoint-000002", "model.safetensors")),
            File.ReadAllBytes(Path.Combine(sharded, "checkpoint-000002", "model.safetensors")));
        AssertSucceeded(C2f("train", "sft", "--out", sharded, "--resume", "--steps", "4", "--zero1"));
        Assert.DoesNotContain("shard", File.ReadAllText(Path.Combine(sharded, "run.json")), StringComparison.OrdinalIgnoreCase);
        AssertComplete(Path.Combine(sharded, "checkpoint-000004"));
    }

    /// <summary>§4, §6: sizes that once grew past 7 GB or overflowed fail in one line naming the option, before any file is written.</summary>
    [Theory]
    [InlineData("--seq", "1000000", "the sequence length (--seq) (1000000) is more than the model's max_position_embeddings (2048)")]
    [InlineData("--batch", "1000000000", "a batch of 1000000000 × 64 tokens")]
    [InlineData("--batch", "100000", "the micro-batch (--micro-batch × --seq)", "GiB of activations")]
    [InlineData("--warmup", "-1", "--warmup must be at least 0, got -1")]
    [InlineData("--micro-batch", "3", "batch size 16 must be a positive multiple of the micro-batch size 3")]
    public void Impossible_sft_sizes_fail_in_one_line_within_bounds(string option, string value, params string[] problem)
    {
        var run = Directory("sizes");
        var result = C2f("train", "sft", "--preset", "tiny", "--out", run, option, value);
        ConsoleAssert.OneLineError(result, problem);
        Assert.False(System.IO.Directory.Exists(Path.Combine(run, "base")), "options are checked before the preset writes its model");
    }

    [Theory]
    [InlineData("bench", "--batch", "0", "--batch must be at least 1, got 0")]
    [InlineData("bench", "--seq", "100000", "--seq (100000) is more than the model's max_position_embeddings (8192)")]
    [InlineData("generate", "--max-tokens", "1000000000", "the longest prompt plus the new tokens", "max_position_embeddings (2048)")]
    public void Impossible_sizes_of_other_commands_fail_in_one_line_within_bounds(string command, string option, string value, params string[] problem)
    {
        var args = command == "generate" ? new[] { "generate", "--model", models.Single, "--prompt", "hi", option, value } : [command, option, value];
        ConsoleAssert.OneLineError(C2f(args), problem);
    }

    [Fact]
    public void Data_files_that_are_fifos_or_malformed_fail_in_one_line_naming_file_and_line()
    {
        var fifo = Path.Combine(models.Root, $"fifo-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(fifo, "");
        HostileModels.ReplaceWithFifo(fifo);
        ConsoleAssert.OneLineError(C2f("train", "sft", "--model", models.Single, "--data", fifo, "--out", Directory("fifo")), fifo, "not a regular file (a FIFO)");

        var broken = Path.Combine(models.Root, $"broken-{Guid.NewGuid():N}.jsonl");
        File.WriteAllLines(broken, ["{\"text\": \"fine\"}", "{\"text\": \"cut"]);
        ConsoleAssert.OneLineError(C2f("train", "sft", "--model", models.Single, "--data", broken, "--out", Directory("broken")), broken, "line 2");
    }
}
