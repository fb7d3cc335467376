using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Cuda.Benchmarks;

/// <summary>
/// The device buffers of one benchmark case, filled with random values (never zeros: a kernel may take a
/// shortcut on zeros, and accumulating outputs start from finite data), freed together.
/// </summary>
internal sealed class DeviceArena(IKernelDevice device, int seed) : IDisposable
{
    /// <summary>Random values are uploaded from one block of at most this many, repeated: a gigabyte need not be drawn value by value.</summary>
    private const int BlockElements = 1 << 20;

    private readonly List<IDisposable> _owned = [];
    private readonly Random _random = new(seed);

    /// <summary>Float32 values uniform in [-1, 1).</summary>
    public ulong F32(long count) => Repeated(count, () => _random.NextSingle() * 2 - 1);

    /// <summary>Float32 values uniform in [0.01, 1): second moments, which AdamW takes the square root of.</summary>
    public ulong PositiveF32(long count) => Repeated(count, () => 0.01f + _random.NextSingle() * 0.99f);

    /// <summary>Bf16 values uniform in [-1, 1).</summary>
    public ulong Bf16(long count) => Repeated(count, () => BFloat16.FromSingle(_random.NextSingle() * 2 - 1));

    public ulong Floats(long count, bool bf16) => bf16 ? Bf16(count) : F32(count);

    /// <summary>Token positions 0, 1, …, length − 1, once per sequence.</summary>
    public ulong Positions(int sequences, int length) =>
        Int32([.. Enumerable.Range(0, sequences * length).Select(i => i % length)]);

    /// <summary>Target tokens uniform in [0, vocab).</summary>
    public ulong Targets(int rows, int vocab) => Int32([.. Enumerable.Range(0, rows).Select(_ => _random.Next(vocab))]);

    public ulong Int32(int[] values)
    {
        var buffer = Allocate(values.Length * sizeof(int));
        device.Upload<int>(values, buffer);
        return buffer;
    }

    /// <summary>Keeps a wrapper or table that owns device memory until the case is done.</summary>
    public T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public BenchmarkLaunch Launch(Action launch) => new(launch, this);

    private ulong Allocate(long bytes) => Own(device.Allocate(bytes)).Address;

    private ulong Repeated<T>(long count, Func<T> next) where T : unmanaged
    {
        var block = new T[(int)Math.Min(count, BlockElements)];
        for (int i = 0; i < block.Length; i++) block[i] = next();
        var elementBytes = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var buffer = Allocate(count * elementBytes);
        for (long done = 0; done < count; done += block.Length)
            device.Upload<T>(block.AsSpan(0, (int)Math.Min(block.Length, count - done)), buffer + (ulong)(done * elementBytes));
        return buffer;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
