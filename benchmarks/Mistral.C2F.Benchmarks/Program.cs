using BenchmarkDotNet.Running;

// Run all benchmarks with `dotnet run -c Release -- --filter '*'`, or pick a class with --filter '*Gemm*'.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
