using System.CommandLine;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f plan</c>: the memory each rank of a data-parallel SFT or PPO job needs and the bytes each optimizer step sends,
/// with the time they take on the stated link, worked out from the preset's shape alone (<see cref="DataParallelPlan"/>).
/// </summary>
internal static class PlanCommand
{
    /// <summary>An H100 SXM's NVLink 4, one direction (900 GB/s both ways): a ring collective's ceiling on one node.</summary>
    private const double NvLinkGigabytesPerSecond = 450;

    /// <summary>The memory of the card the plan is compared with.</summary>
    private const double H100Bytes = 80e9;

    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model shape", DefaultValueFactory = _ => "mistral-7b" }
            .AcceptOnlyFromAmong([.. MistralPresets.Names]);
        var ranks = new Option<int>("--ranks") { Description = "Data-parallel processes, one device each", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var zero1 = new Option<bool>("--zero1") { Description = "Shard AdamW's moments and float32 master weights over the ranks (ZeRO-1)" };
        var dtype = new Option<string>("--dtype")
        {
            Description = "Weights and activations: bf16 (float32 master weights in the optimizer) or f32; gradients and moments are float32",
            DefaultValueFactory = _ => "bf16",
        }.AcceptOnlyFromAmong("bf16", "f32");
        var microBatch = new Option<int>("--micro-batch") { Description = "Sequences per forward and backward pass on one rank", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var length = new Option<int>("--seq") { Description = "Tokens per sequence (PPO: prompt and response)", DefaultValueFactory = _ => 4096 }.AtLeast(1);
        var rollouts = new Option<int>("--rollouts") { Description = "PPO: sequences one rank generates at once", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var bandwidth = new Option<double>("--bandwidth")
        {
            Description = $"GB/s of one rank's link in one direction (default {NvLinkGigabytesPerSecond:0}: an H100's NVLink; 25 for a 200 Gb/s network)",
            DefaultValueFactory = _ => NvLinkGigabytesPerSecond,
        }.Positive();
        var command = new Command("plan", "Memory per rank and bytes sent per step of data-parallel SFT and PPO, on paper")
        {
            preset, ranks, zero1, dtype, microBatch, length, rollouts, bandwidth,
        };
        command.SetAction(parse =>
        {
            var config = MistralPresets.Get(parse.GetRequiredValue(preset));
            var settings = new DataParallelSettings(parse.GetValue(ranks), parse.GetValue(zero1), parse.GetRequiredValue(dtype) == "bf16" ? 2 : 4,
                parse.GetValue(microBatch), parse.GetValue(length), parse.GetValue(rollouts), parse.GetValue(bandwidth) * 1e9);
            config.RequirePositions(settings.SequenceLength, "--seq");
            Report(parse.GetRequiredValue(preset), settings, DataParallelPlan.Sft(config, settings), DataParallelPlan.Ppo(config, settings));
        });
        return command;
    }

    private static void Report(string preset, DataParallelSettings settings, params DataParallelPlan[] plans)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("per rank").Title(
            $"{preset}, {settings.Ranks} rank{(settings.Ranks == 1 ? "" : "s")}{(settings.Zero1 ? ", ZeRO-1" : "")}, {(settings.WeightBytes == 2 ? "bf16" : "f32")}, " +
            $"micro-batch {settings.MicroBatch} × {settings.SequenceLength}");
        foreach (var plan in plans) table.AddColumn(new TableColumn(plan.Job).RightAligned());
        void Row(string what, Func<DataParallelPlan, string> cell) => table.AddRow([what, .. plans.Select(cell)]);
        static string GiB(double bytes) => $"{bytes / (1L << 30):0.0} GiB";
        Row("trained weights", p => GiB(p.Weights));
        Row("float32 master weights", p => GiB(p.MasterWeights));
        Row("gradients (float32)", p => GiB(p.Gradients));
        Row("AdamW moments (float32)", p => GiB(p.AdamWMoments));
        Row("activations (one micro-batch, floor)", p => GiB(p.Activations));
        Row("frozen weights (reference, reward)", p => GiB(p.FrozenWeights));
        Row($"KV cache ({settings.Rollouts} rollouts)", p => GiB(p.KvCache));
        Row("[bold]total[/]", p => $"[bold]{GiB(p.Total)}[/]");
        Row("fits an 80 GB H100", p => p.Total <= H100Bytes ? "[green]yes[/]" : "[red]no[/]");
        Row(settings.Zero1 ? "sent per step (reduce-scatter + all-gather)" : "sent per step (all-reduce)", p => $"{p.BytesSentPerStep / 1e9:0.0} GB");
        Row($"at {settings.LinkBytesPerSecond / 1e9:0} GB/s", p => $"{1e3 * p.SecondsPerStep:0} ms");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]PPO: actor and critic trained, reference and reward model frozen, all of this shape. A PPO step is one " +
            "mini-batch update of the actor and the critic. Workspaces and the allocator's slack come on top of the activations' floor.[/]");
    }
}
