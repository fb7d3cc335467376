using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>The tensors of one benchmark case on a <see cref="Backend"/>, random like <see cref="DeviceArena"/>'s, disposed together.</summary>
internal sealed class BackendArena(Backend backend, int seed) : IDisposable
{
    private readonly List<Tensor> _tensors = [];
    private readonly Random _random = new(seed);

    /// <summary>Float32 values uniform in [-1, 1).</summary>
    public Tensor F32(params int[] dims) => Uniform(-1, 2, dims);

    /// <summary>Float32 values uniform in [0.01, 1): second moments, which AdamW takes the square root of.</summary>
    public Tensor PositiveF32(params int[] dims) => Uniform(0.01f, 0.99f, dims);

    private Tensor Uniform(float low, float width, int[] dims)
    {
        var values = new float[new Shape(dims).ElementCount];
        for (int i = 0; i < values.Length; i++) values[i] = low + _random.NextSingle() * width;
        return Own(backend.FromFloats(values, dims));
    }

    /// <summary>Token positions 0, 1, …, length − 1 per sequence, [sequences, length].</summary>
    public Tensor Positions(int sequences, int length) =>
        Own(backend.FromInts([.. Enumerable.Range(0, sequences * length).Select(i => i % length)], sequences, length));

    public Tensor Targets(int rows, int vocab) =>
        Own(backend.FromInts([.. Enumerable.Range(0, rows).Select(_ => _random.Next(vocab))], rows));

    public BenchmarkLaunch Launch(Action launch) => new(launch, this);

    private Tensor Own(Tensor tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors) tensor.Dispose();
        _tensors.Clear();
    }
}
