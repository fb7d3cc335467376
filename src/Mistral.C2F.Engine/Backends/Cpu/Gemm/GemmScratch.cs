using System.Runtime.InteropServices;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// A 64-byte-aligned native float buffer that only grows, so packing reuses it call after call instead
/// of allocating. The finalizer returns the memory when the owning thread (and so the buffer) is gone.
/// </summary>
internal sealed unsafe class AlignedBuffer
{
    private const int Alignment = 64;
    private float* _data;
    private long _capacity;

    public float* Pointer => _data;

    /// <summary>At least <paramref name="floats"/> floats; earlier contents are not kept.</summary>
    public float* Reserve(long floats)
    {
        if (floats > _capacity)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
            _capacity = 0;
            _data = (float*)NativeMemory.AlignedAlloc((nuint)(floats * sizeof(float)), Alignment);
            _capacity = floats;
        }
        return _data;
    }

    ~AlignedBuffer() => NativeMemory.AlignedFree(_data);
}

/// <summary>Per-thread scratch: every thread that runs GEMM work packs B (and small-product rows of A) into its own buffers.</summary>
internal static unsafe class GemmScratch
{
    [ThreadStatic] private static AlignedBuffer? t_packedB;
    [ThreadStatic] private static AlignedBuffer? t_rows;

    public static float* PackedB(long floats) => (t_packedB ??= new AlignedBuffer()).Reserve(floats);

    public static float* Rows(long floats) => (t_rows ??= new AlignedBuffer()).Reserve(floats);
}
