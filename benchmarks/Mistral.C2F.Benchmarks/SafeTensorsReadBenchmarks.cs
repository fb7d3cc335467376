using BenchmarkDotNet.Attributes;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Benchmarks;

/// <summary>
/// Reading a 200 MB bf16 checkpoint (25 tensors of 4096 × 1024) into float32, file in the page cache,
/// against the same bf16 → float32 conversion from memory: the gap is the cost of mapping and page faults.
/// MB/s = 200 / mean seconds.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
[MemoryDiagnoser]
public class SafeTensorsReadBenchmarks
{
    private const int TensorCount = 25, Rows = 4096, Columns = 1024;

    private string _directory = "";
    private string _path = "";
    private readonly float[] _values = new float[Rows * Columns];
    private readonly ushort[] _stored = new ushort[TensorCount * Rows * Columns];

    [GlobalSetup]
    public void WriteCheckpoint()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"c2f-bench-{Guid.NewGuid():N}");
        _path = Path.Combine(_directory, "model.safetensors");
        var random = new Random(1);
        for (int i = 0; i < _values.Length; i++) _values[i] = (float)(random.NextDouble() * 2 - 1);
        var tensors = Enumerable.Range(0, TensorCount).Select(i => new SafeTensorInfo($"t{i}", SafeTensorsDType.BF16, new Shape(Rows, Columns))).ToArray();
        using var writer = new SafeTensorsWriter(_path, tensors);
        foreach (var tensor in tensors) writer.Write(tensor.Name, _values);
        writer.Commit();
        for (int t = 0; t < TensorCount; t++) BFloat16.FromSingle(_values, _stored.AsSpan(t * _values.Length, _values.Length));
    }

    [GlobalCleanup]
    public void DeleteCheckpoint() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Baseline = true)]
    public void ConvertFromMemory()
    {
        for (int t = 0; t < TensorCount; t++) BFloat16.ToSingle(_stored.AsSpan(t * _values.Length, _values.Length), _values);
    }

    [Benchmark]
    public void ReadFile()
    {
        using var file = SafeTensorsFile.Open(_path);
        foreach (var tensor in file.Tensors) file.ReadFloats(tensor.Name, _values);
    }

    [Benchmark]
    public void ReadFileCheckingFinite()
    {
        using var file = SafeTensorsFile.Open(_path);
        foreach (var tensor in file.Tensors) file.ReadFloats(tensor.Name, _values, checkFinite: true);
    }
}
