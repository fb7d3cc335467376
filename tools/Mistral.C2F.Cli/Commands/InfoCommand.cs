using System.CommandLine;
using Mistral.C2F.Engine.Cuda;
using Mistral.C2F.Engine.Cuda.Nccl;
using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Ilgpu;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary><c>c2f info</c>: the CPU's SIMD features, threads, the backends this build offers and any GPU.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show CPU features, threads, available backends and GPU");
        command.SetAction(_ =>
        {
            var info = SystemInfo.Detect();
            var table = new Table().AddColumns("Property", "Value").Border(TableBorder.Rounded);
            table.AddRow("CPU", Markup.Escape(info.CpuModel));
            table.AddRow("Threads", info.Threads.ToString());
            foreach (var (name, supported) in info.CpuFeatures) table.AddRow(name, supported ? "[green]yes[/]" : "[grey]no[/]");
            table.AddRow("Vector<float> width", $"{info.VectorBits} bits");
            table.AddRow("Backends", "cpu (float32 SIMD), reference (float64), cuda (hand-written kernels), cuda-bf16 (the same, mixed precision on tensor cores), ilgpu, cuda-emu and cuda-emu-bf16 (kernel emulator)");
            using (var ilgpu = IlgpuBackend.Create())
                table.AddRow("ILGPU accelerator", Markup.Escape(ilgpu.Accelerator.ToString()));
            table.AddRow("CUDA for ILGPU", IlgpuBackend.CudaAvailable(out var reason) ? "[green]yes[/]" : $"[grey]no: {Markup.Escape(reason)}[/]");
            using (var gpu = CudaBackendFactory.TryCreateOnGpu(out var gpuReason))
                table.AddRow("CUDA kernels (PTX)", gpu is null ? $"[grey]no: {Markup.Escape(gpuReason)}[/]" : $"[green]{Markup.Escape(gpu.DeviceName)}[/]");
            using (var emulated = CudaBackendFactory.TryCreateEmulated(out var emulatorReason))
                table.AddRow("CUDA kernel emulator", emulated is null ? $"[grey]no: {Markup.Escape(emulatorReason)}[/]" : "[green]yes[/] (cuda-emu)");
            table.AddRow("NCCL (mpirun on GPUs)", NcclLibrary.TryLoad(out var ncclProblem) ? $"[green]{Markup.Escape(NcclLibrary.Version)}[/]" : $"[grey]no: {Markup.Escape(ncclProblem)}[/]");
            table.AddRow("GPU", Markup.Escape(info.Gpu));
            AnsiConsole.Write(table);
        });
        return command;
    }
}
