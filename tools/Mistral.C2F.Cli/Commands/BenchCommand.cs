using System.CommandLine;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Cuda;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Training;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f bench</c>: tokens/s of training steps or forward passes of a preset on random weights and tokens, the model
/// FLOP rate against this machine's GEMM rate measured in the same run, and where the time goes, op by op; or, with
/// <c>--mode kernels</c>, the hand-written CUDA kernels one by one (<see cref="KernelBenchMode"/>); or, under mpirun with
/// <c>--mode allreduce</c>, the all-reduce that data-parallel training makes every step.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "Model shape", DefaultValueFactory = _ => "small" }
            .AcceptOnlyFromAmong([.. MistralPresets.Names]);
        var mode = new Option<string>("--mode")
        {
            Description = "train (forward + backward + AdamW), forward, decode (one token per sequence per step through the KV cache after a --seq prompt), " +
                "kernels (each hand-written CUDA kernel against the device's rooflines, PyTorch and ILGPU; --backend cuda or cuda-emu), " +
                "or allreduce (under mpirun: a float32 all-reduce of --megabytes, the bandwidth between the ranks)",
            DefaultValueFactory = _ => "train",
        }.AcceptOnlyFromAmong("train", "forward", "decode", "kernels", "allreduce");
        var megabytes = new Option<int>("--megabytes") { Description = "allreduce mode: MiB all-reduced per step", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var batch = new Option<int>("--batch") { Description = "Sequences per step", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var length = new Option<int>("--seq") { Description = "Tokens per sequence", DefaultValueFactory = _ => 256 }.AtLeast(1);
        var steps = new Option<int>("--steps") { Description = "Timed steps (the median is reported)", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps", DefaultValueFactory = _ => 2 }.AtLeast(0);
        var threads = CommonOptions.Threads();
        var backendName = CommonOptions.Backend();
        var kernelOptions = new KernelBenchMode.Options();
        var command = new Command("bench", "Time training steps or forward passes of a preset and profile them op by op, or the CUDA kernels")
        {
            preset, mode, batch, length, steps, warmup, megabytes, threads, backendName, kernelOptions.PlanOut, kernelOptions.Peers, kernelOptions.Report, kernelOptions.PlanOnly,
        };
        command.SetAction(parse =>
        {
            if (parse.GetRequiredValue(mode) == "allreduce")
            {
                using var communicator = JobLaunch.Join();
                var allReduce = AllReduceTiming.Measure(communicator, (long)parse.GetValue(megabytes) << 20, parse.GetValue(warmup), parse.GetValue(steps));
                if (communicator.IsRoot)
                    AnsiConsole.MarkupLine($"all-reduce of {allReduce.Bytes >> 20} MiB over {allReduce.Ranks} rank(s): {allReduce.Median.TotalMilliseconds:F2} ms (median), " +
                        $"algorithm bandwidth {allReduce.AlgorithmBytesPerSecond / 1e9:F2} GB/s, bus bandwidth {allReduce.BusBytesPerSecond / 1e9:F2} GB/s");
                return;
            }
            if (JobLaunch.Ranks > 1) throw new ArgumentException("under mpirun, c2f bench runs only --mode allreduce");
            if (parse.GetRequiredValue(mode) == "kernels")
            {
                KernelBenchMode.Run(parse, backendName, kernelOptions);
                return;
            }
            var config = MistralPresets.Get(parse.GetRequiredValue(preset));
            var (b, s) = (parse.GetValue(batch), parse.GetValue(length));
            bool decode = parse.GetRequiredValue(mode) == "decode";
            config.RequirePositions(decode ? (long)s + parse.GetValue(warmup) + parse.GetValue(steps) : s, decode ? "--seq + --warmup + --steps" : "--seq");
            using var backend = CommonOptions.CreateBackend(parse.GetRequiredValue(backendName), parse.GetValue(threads));
            ActivationMemory.RequireFits(config, (double)b * s, backend, "--batch × --seq");
            using var model = new MistralModel(config, backend, RandomInitializer.Create(config, backend, seed: 0));
            var timing = parse.GetRequiredValue(mode) switch
            {
                "train" => StepBenchmark.Train(model, b, s, parse.GetValue(warmup), parse.GetValue(steps)),
                "forward" => StepBenchmark.Forward(model, b, s, parse.GetValue(warmup), parse.GetValue(steps)),
                _ => StepBenchmark.Decode(model, b, s, parse.GetValue(warmup), parse.GetValue(steps)),
            };
            double peak = StepBenchmark.MatMulRate(backend);
            Report(timing, parse.GetRequiredValue(preset), b, s, backend.Name, parse.GetValue(threads), peak);
            if (backend is DeviceMemoryBackend) ReportRoofline(timing, config, b, s, backend);
        });
        return command;
    }

    /// <summary>The step's lower bound on the GPU it runs on (on the emulator: an H100), beside the measured step.</summary>
    private static void ReportRoofline(StepTiming timing, MistralConfig config, int batch, int length, Backend backend)
    {
        var cuda = backend as CudaBackend;
        var rates = DeviceRates.For(cuda?.DeviceName ?? "");
        bool bf16 = cuda?.Precision == CudaPrecision.Bf16TensorCores;
        var roofline = StepRoofline.For(timing.Mode, config, batch, length, rates, bf16);
        double rate = bf16 ? rates.Bf16FlopsPerSecond : rates.Float32FlopsPerSecond;
        var table = new Table().AddColumns("", "").HideHeaders().Border(TableBorder.Rounded).Title($"roofline of this step on an {rates.Card}");
        table.AddRow("compute", $"{1e3 * roofline.ComputeSeconds:F3} ms ({roofline.Flops / 1e9:F1} GFLOP at {rate / 1e12:F0} TFLOP/s {(bf16 ? "bf16" : "float32")})");
        table.AddRow("memory", $"{1e3 * roofline.MemorySeconds:F3} ms ({roofline.Bytes / 1e6:F1} MB at {rates.BytesPerSecond / 1e12:F1} TB/s)");
        table.AddRow("predicted step", $"{1e3 * roofline.BoundSeconds:F3}–{1e3 * roofline.SerialSeconds:F3} ms (overlapped–serial)");
        table.AddRow("predicted MFU", $"{100 * roofline.SerialMfu(rate):F0}–{100 * roofline.BestMfu(rate):F0} % of {rate / 1e12:F0} TFLOP/s");
        bool onGpu = backend.Name is "cuda" or "cuda-bf16" or "ilgpu-cuda";
        table.AddRow("measured", $"{timing.MedianStep.TotalMilliseconds:F3} ms" +
            (onGpu ? $": the bound is {100 * roofline.BoundSeconds / timing.MedianStep.TotalSeconds:F0} % of it" : " here, not on that card"));
        AnsiConsole.Write(table);
    }

    private static void Report(StepTiming timing, string preset, int batch, int length, string backend, int threads, double gemmRate)
    {
        var summary = new Table().AddColumns("", "").HideHeaders().Border(TableBorder.Rounded)
            .Title($"{timing.Mode} · {preset} · batch {batch}×{length} · {backend}, {threads} thread(s)");
        summary.AddRow("median step", $"{timing.MedianStep.TotalMilliseconds:F1} ms");
        summary.AddRow("tokens/s", $"[bold]{timing.TokensPerSecond:F0}[/]");
        summary.AddRow("model FLOP rate", $"{timing.GflopsPerSecond:F1} GFLOP/s");
        summary.AddRow("GEMM rate, 1024³ now", $"{gemmRate:F1} GFLOP/s ({100 * timing.GflopsPerSecond / gemmRate:F0} % of it reached by the whole step)");
        if (timing.Device is { } device)
        {
            summary.AddRow("allocs, frees, syncs", $"{device.Allocations}, {device.Frees}, {device.HostSyncs} per step (device)");
            summary.AddRow("copies, launches", $"{device.HostToDeviceBytes:N0} B up, {device.DeviceToHostBytes:N0} B down, {device.Launches} launches per step");
        }
        AnsiConsole.Write(summary);

        var ops = new Table().AddColumns("op", "ms / step (mean)", "share", "calls / step").Border(TableBorder.Simple);
        double step = timing.MeanStep.TotalMilliseconds, inOps = timing.Ops.Sum(o => o.PerStep.TotalMilliseconds);
        foreach (var (op, perStep, calls) in timing.Ops)
            ops.AddRow(op, $"{perStep.TotalMilliseconds:F2}", $"{100 * perStep.TotalMilliseconds / step:F1} %", $"{calls:F0}");
        ops.AddRow("[grey]outside ops (host work, data transfer)[/]", $"[grey]{step - inOps:F2}[/]", $"[grey]{100 * (step - inOps) / step:F1} %[/]", "");
        AnsiConsole.Write(ops);
    }
}
