using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tests.Cli;
using Mistral.C2F.Engine.Training;

namespace Mistral.C2F.Engine.Tests.Distributed;

/// <summary>
/// The arithmetic of <c>c2f plan</c>: bytes per rank of each kind of state, what ZeRO-1 shards, the bytes a ring collective
/// sends per rank (all-reduce 2(N−1)/N·B; reduce-scatter and all-gather (N−1)/N·B each), and PPO's four models and KV cache.
/// </summary>
[Trait("Backend", "cpu")]
[Collection(ConsoleCollection.Name)]
public sealed class DataParallelPlanTests
{
    private static readonly MistralConfig Config = MistralPresets.Get("mistral-7b");
    private static readonly MistralConfig Critic = Config with { Architecture = MistralConfig.SequenceClassification };

    private static double Parameters(MistralConfig config) => MistralParameterNames.For(config).Sum(p => (double)p.Shape.ElementCount);

    private static DataParallelSettings Settings(int ranks, bool zero1 = false, int weightBytes = 2) =>
        new(ranks, zero1, weightBytes, MicroBatch: 1, SequenceLength: 4096, Rollouts: 8, LinkBytesPerSecond: 450e9);

    [Fact]
    public void One_float32_rank_holds_weights_gradients_and_moments_and_sends_nothing()
    {
        var plan = DataParallelPlan.Sft(Config, Settings(1, weightBytes: 4));
        double p = Parameters(Config);
        Assert.InRange(p, 7.2e9, 7.3e9);  // Mistral-7B: 7.24 B parameters
        Assert.Equal(4 * p, plan.Weights);
        Assert.Equal(0, plan.MasterWeights);
        Assert.Equal(4 * p, plan.Gradients);
        Assert.Equal(8 * p, plan.AdamWMoments);
        Assert.Equal(ActivationMemory.Estimate(Config, 4096, 4), plan.Activations);
        Assert.Equal(0, plan.FrozenWeights + plan.KvCache + plan.BytesSentPerStep + plan.SecondsPerStep);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(8)]
    public void Bf16_keeps_float32_master_weights_and_an_all_reduce_sends_twice_the_gradients_share(int ranks)
    {
        var plan = DataParallelPlan.Sft(Config, Settings(ranks));
        double p = Parameters(Config), n = ranks;
        Assert.Equal(2 * p, plan.Weights);
        Assert.Equal(4 * p, plan.MasterWeights);
        Assert.Equal(8 * p, plan.AdamWMoments);
        Assert.Equal(2 * (n - 1) / n * 4 * p, plan.BytesSentPerStep, 1e-9 * plan.BytesSentPerStep);
        Assert.Equal(plan.BytesSentPerStep / 450e9, plan.SecondsPerStep, 1e-15);
        Assert.Equal(plan.Weights + plan.MasterWeights + plan.Gradients + plan.AdamWMoments + plan.Activations, plan.Total, 1e-9 * plan.Total);
    }

    [Fact]
    public void Zero1_shards_moments_and_master_weights_and_sends_a_reduce_scatter_and_an_all_gather()
    {
        var plain = DataParallelPlan.Sft(Config, Settings(8));
        var sharded = DataParallelPlan.Sft(Config, Settings(8, zero1: true));
        double p = Parameters(Config);
        Assert.Equal(plain.AdamWMoments / 8, sharded.AdamWMoments, 1e-9 * plain.AdamWMoments);
        Assert.Equal(plain.MasterWeights / 8, sharded.MasterWeights, 1e-9 * plain.MasterWeights);
        Assert.Equal(plain.Gradients, sharded.Gradients);
        Assert.Equal(7.0 / 8 * 4 * p + 7.0 / 8 * 2 * p, sharded.BytesSentPerStep, 1e-9 * sharded.BytesSentPerStep);
    }

    [Fact]
    public void Ppo_trains_the_actor_and_the_critic_keeps_the_reference_and_the_reward_model_and_caches_the_rollouts()
    {
        var ppo = DataParallelPlan.Ppo(Config, Settings(2));
        double trained = Parameters(Config) + Parameters(Critic);
        Assert.Equal(2 * trained, ppo.Weights);
        Assert.Equal(4 * trained, ppo.Gradients);
        Assert.Equal(2 * trained, ppo.FrozenWeights);
        Assert.Equal(8.0 * 4096 * Config.NumHiddenLayers * 2 * Config.NumKeyValueHeads * Config.HeadDim * 2, ppo.KvCache);
        Assert.Equal(ActivationMemory.Estimate(Config, 4096, 2), ppo.Activations);  // the actor's, the larger head
        Assert.Equal(2 * trained * 4 / 2, ppo.BytesSentPerStep, 1e-9 * ppo.BytesSentPerStep);
    }

    [Theory]
    [InlineData(0, 2, "Ranks")]
    [InlineData(1, 3, "bf16 (2 bytes) or float32 (4 bytes)")]
    public void Impossible_settings_are_refused(int ranks, int weightBytes, string problem)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => DataParallelPlan.Sft(Config, Settings(ranks, weightBytes: weightBytes)));
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void The_command_prints_the_plan_and_refuses_a_zero_bandwidth_and_a_sequence_past_the_positions()
    {
        Assert.Equal(0, InProcessC2f.Run("plan", "--preset", "mistral-7b", "--ranks", "8", "--zero1").ExitCode);
        var (code, error) = InProcessC2f.Run("plan", "--bandwidth", "0");
        Assert.NotEqual(0, code);
        Assert.Contains("--bandwidth must be a positive number", error);
        (code, error) = InProcessC2f.Run("plan", "--preset", "tiny", "--seq", "100000");
        Assert.NotEqual(0, code);
        Assert.Contains("--seq", error);
    }
}
