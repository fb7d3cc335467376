using BenchmarkDotNet.Running;
using Mistral.C2F.Benchmarks;

// Run all benchmarks with `dotnet run -c Release -- --filter '*'`, or pick a class with --filter '*Gemm*'.
// `dotnet run -c Release -- --gemm-quick [repeats] [shape]` prints GEMM GFLOP/s beside OpenBLAS in seconds, for tuning.
if (args is ["--gemm-quick", .. var quick])
    GemmQuick.Run(quick);
else
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
