using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// Packs a block of an operand into micro-panels of <c>width</c> rows (MR for A, NR for B): panel after
/// panel, each depth-major (the <c>width</c> values of depth p, then those of p+1 …), the order the
/// micro-kernel reads them in. Rows past the operand's edge are packed as zeros, so edge tiles need no
/// kernel of their own, and masked loads never touch memory outside the matrices.
/// <para>
/// Packing moves every element of A and B once per block, so it runs with the kernel's vector width
/// (<see cref="IGemmMicroKernel.Lanes"/>): runs of a panel's rows that are adjacent in memory are copied
/// in vectors; rows that run along the depth are transposed in Lanes×Lanes register blocks. Tying the
/// instruction set to the kernel lets the tests cover every path on one machine.
/// </para>
/// </summary>
internal static unsafe class GemmPacking
{
    // Depths copied ahead of the prefetches: a strided source (the next depth of A stored k×m lies m
    // floats on) defeats the hardware prefetcher, and without them the copy waited on every line.
    private const int PrefetchDepths = 8;

    /// <summary>Packs rows row0..row0+rows-1 and depths depth0..depth0+depth-1 of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static void Pack<TKernel>(GemmOperand source, long row0, int rows, int depth0, int depth, int width, float* destination)
        where TKernel : struct, IGemmMicroKernel
    {
        if (source.RowStride == 1)
        {
            CopyPanels<TKernel>(source.At(row0, depth0), source.DepthStride, rows, depth, width, destination);
            return;
        }
        for (int r = 0; r < rows; r += width, destination += (nint)width * depth)
            TransposePanel<TKernel>(source.At(row0 + r, depth0), source.RowStride, Math.Min(width, rows - r), depth, width, destination);
    }

    /// <summary>
    /// The rows are adjacent at each depth: copy them a vector at a time, one depth across all panels
    /// before the next, so that each cache line of a far-strided source is read once, whole.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPanels<TKernel>(float* source, nint depthStride, int rows, int depth, int width, float* destination)
        where TKernel : struct, IGemmMicroKernel
    {
        int lanes = TKernel.Lanes;
        nint panelSize = (nint)width * depth;
        int paddedRows = (rows + width - 1) / width * width;
        for (int p = 0; p < depth; p++, source += depthStride, destination += width)
        {
            if (Sse.IsSupported && p + PrefetchDepths < depth)
                for (int r = 0; r < rows; r += 16) Sse.Prefetch0(source + PrefetchDepths * depthStride + r);
            float* panel = destination;
            for (int r = 0; r < paddedRows; r += width, panel += panelSize)
                for (int g = 0; g < width; g += lanes)
                {
                    int stored = Math.Min(lanes, width - g), live = Math.Clamp(rows - r - g, 0, stored);
                    if (lanes == 16) Copy16(source + r + g, live, panel + g, stored);
                    else if (lanes == 8) Copy8(source + r + g, live, panel + g, stored);
                    else panel[g] = live > 0 ? source[r + g] : 0f;
                }
        }
    }

    /// <summary>Each of the panel's rows runs along the depth: transpose Lanes×Lanes blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposePanel<TKernel>(float* source, nint rowStride, int live, int depth, int width, float* destination)
        where TKernel : struct, IGemmMicroKernel
    {
        int lanes = TKernel.Lanes;
        for (int p = 0; p < depth; p += lanes)
            for (int g = 0; g < width; g += lanes)
            {
                int rows = Math.Clamp(live - g, 0, lanes), depths = Math.Min(lanes, depth - p), stored = Math.Min(lanes, width - g);
                float* from = source + g * rowStride + p, to = destination + (nint)p * width + g;
                if (lanes == 16) Transpose16(from, rowStride, rows, depths, to, width, stored);
                else if (lanes == 8) Transpose8(from, rowStride, rows, depths, to, width, stored);
                else *to = rows > 0 ? *from : 0f;
            }
    }

    // ---- AVX-512: 16 lanes -------------------------------------------------------------------

    /// <summary>destination[0..stored) = source[0..rows), zero past rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Copy16(float* source, int rows, float* destination, int stored)
    {
        var values = rows == 16 ? Vector512.Load(source) : Avx512F.MaskLoad(source, Mask16(rows), Vector512<float>.Zero);
        if (stored == 16) values.Store(destination);
        else Avx512F.MaskStore(destination, Mask16(stored), values);
    }

    /// <summary>
    /// destination[q·width + r] = source[r·rowStride + q] for q &lt; depths and r &lt; stored, zero for rows
    /// r ≥ <paramref name="rows"/>: four rounds of 2-, 4-, 8- and 16-wide interleaves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose16(float* source, nint rowStride, int rows, int depths, float* destination, nint width, int stored)
    {
        var load = depths == 16 ? Vector512<float>.AllBitsSet : Mask16(depths);
        Vector512<float> r0 = Row16(source, 0, rowStride, rows, depths, load), r1 = Row16(source, 1, rowStride, rows, depths, load);
        Vector512<float> r2 = Row16(source, 2, rowStride, rows, depths, load), r3 = Row16(source, 3, rowStride, rows, depths, load);
        Vector512<float> r4 = Row16(source, 4, rowStride, rows, depths, load), r5 = Row16(source, 5, rowStride, rows, depths, load);
        Vector512<float> r6 = Row16(source, 6, rowStride, rows, depths, load), r7 = Row16(source, 7, rowStride, rows, depths, load);
        Vector512<float> r8 = Row16(source, 8, rowStride, rows, depths, load), r9 = Row16(source, 9, rowStride, rows, depths, load);
        Vector512<float> r10 = Row16(source, 10, rowStride, rows, depths, load), r11 = Row16(source, 11, rowStride, rows, depths, load);
        Vector512<float> r12 = Row16(source, 12, rowStride, rows, depths, load), r13 = Row16(source, 13, rowStride, rows, depths, load);
        Vector512<float> r14 = Row16(source, 14, rowStride, rows, depths, load), r15 = Row16(source, 15, rowStride, rows, depths, load);

        // Rows interleaved by pairs, then by quads: the 128-bit lane L of q·j·d holds rows 4j..4j+3 at depth 4L + d.
        Quad(r0, r1, r2, r3, out var q00, out var q01, out var q02, out var q03);
        Quad(r4, r5, r6, r7, out var q10, out var q11, out var q12, out var q13);
        Quad(r8, r9, r10, r11, out var q20, out var q21, out var q22, out var q23);
        Quad(r12, r13, r14, r15, out var q30, out var q31, out var q32, out var q33);

        var store = stored == 16 ? Vector512<float>.AllBitsSet : Mask16(stored);
        // Each q·d gathers depths d, 4+d, 8+d and 12+d of all 16 rows; the 128-bit lane shuffles sort them out.
        Lanes(q00, q10, q20, q30, destination, width, 0, depths, stored, store);
        Lanes(q01, q11, q21, q31, destination, width, 1, depths, stored, store);
        Lanes(q02, q12, q22, q32, destination, width, 2, depths, stored, store);
        Lanes(q03, q13, q23, q33, destination, width, 3, depths, stored, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row16(float* source, int row, nint rowStride, int rows, int depths, Vector512<float> load) =>
        row >= rows ? Vector512<float>.Zero
        : depths == 16 ? Vector512.Load(source + row * rowStride)
        : Avx512F.MaskLoad(source + row * rowStride, load, Vector512<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d,
        out Vector512<float> depth0, out Vector512<float> depth1, out Vector512<float> depth2, out Vector512<float> depth3)
    {
        var abLow = Avx512F.UnpackLow(a, b).AsDouble();
        var abHigh = Avx512F.UnpackHigh(a, b).AsDouble();
        var cdLow = Avx512F.UnpackLow(c, d).AsDouble();
        var cdHigh = Avx512F.UnpackHigh(c, d).AsDouble();
        depth0 = Avx512F.UnpackLow(abLow, cdLow).AsSingle();
        depth1 = Avx512F.UnpackHigh(abLow, cdLow).AsSingle();
        depth2 = Avx512F.UnpackLow(abHigh, cdHigh).AsSingle();
        depth3 = Avx512F.UnpackHigh(abHigh, cdHigh).AsSingle();
    }

    /// <summary>Stores depths d, 4+d, 8+d, 12+d from four quad vectors (rows 0-3, 4-7, 8-11, 12-15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(Vector512<float> rows0, Vector512<float> rows4, Vector512<float> rows8, Vector512<float> rows12,
        float* destination, nint width, int d, int depths, int stored, Vector512<float> store)
    {
        var even0 = Avx512F.Shuffle4x128(rows0, rows4, 0b10_00_10_00); // rows 0-7 at depths d, 8+d
        var odd0 = Avx512F.Shuffle4x128(rows0, rows4, 0b11_01_11_01);  // rows 0-7 at depths 4+d, 12+d
        var even8 = Avx512F.Shuffle4x128(rows8, rows12, 0b10_00_10_00);
        var odd8 = Avx512F.Shuffle4x128(rows8, rows12, 0b11_01_11_01);
        Store16(Avx512F.Shuffle4x128(even0, even8, 0b10_00_10_00), destination, width, d, depths, stored, store);
        Store16(Avx512F.Shuffle4x128(odd0, odd8, 0b10_00_10_00), destination, width, 4 + d, depths, stored, store);
        Store16(Avx512F.Shuffle4x128(even0, even8, 0b11_01_11_01), destination, width, 8 + d, depths, stored, store);
        Store16(Avx512F.Shuffle4x128(odd0, odd8, 0b11_01_11_01), destination, width, 12 + d, depths, stored, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(Vector512<float> values, float* destination, nint width, int depth, int depths, int stored, Vector512<float> store)
    {
        if (depth >= depths) return;
        if (stored == 16) values.Store(destination + depth * width);
        else Avx512F.MaskStore(destination + depth * width, store, values);
    }

    private static Vector512<float> Mask16(int count) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(count)).AsSingle();

    // ---- AVX2: 8 lanes -----------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Copy8(float* source, int rows, float* destination, int stored)
    {
        var values = rows == 8 ? Vector256.Load(source) : Avx.MaskLoad(source, Mask8(rows));
        if (stored == 8) values.Store(destination);
        else Avx.MaskStore(destination, Mask8(stored), values);
    }

    /// <summary>The 8×8 counterpart of <see cref="Transpose16"/>: 2- and 4-wide interleaves, then 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose8(float* source, nint rowStride, int rows, int depths, float* destination, nint width, int stored)
    {
        var load = depths == 8 ? Vector256<float>.AllBitsSet : Mask8(depths);
        Vector256<float> r0 = Row8(source, 0, rowStride, rows, depths, load), r1 = Row8(source, 1, rowStride, rows, depths, load);
        Vector256<float> r2 = Row8(source, 2, rowStride, rows, depths, load), r3 = Row8(source, 3, rowStride, rows, depths, load);
        Vector256<float> r4 = Row8(source, 4, rowStride, rows, depths, load), r5 = Row8(source, 5, rowStride, rows, depths, load);
        Vector256<float> r6 = Row8(source, 6, rowStride, rows, depths, load), r7 = Row8(source, 7, rowStride, rows, depths, load);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // In each 128-bit half h of u·d: rows 0-3 (u0..u3) or 4-7 (u4..u7) at depth 4h + d.
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        var store = stored == 8 ? Vector256<float>.AllBitsSet : Mask8(stored);
        Store8(Avx.Permute2x128(u0, u4, 0x20), destination, width, 0, depths, stored, store);
        Store8(Avx.Permute2x128(u1, u5, 0x20), destination, width, 1, depths, stored, store);
        Store8(Avx.Permute2x128(u2, u6, 0x20), destination, width, 2, depths, stored, store);
        Store8(Avx.Permute2x128(u3, u7, 0x20), destination, width, 3, depths, stored, store);
        Store8(Avx.Permute2x128(u0, u4, 0x31), destination, width, 4, depths, stored, store);
        Store8(Avx.Permute2x128(u1, u5, 0x31), destination, width, 5, depths, stored, store);
        Store8(Avx.Permute2x128(u2, u6, 0x31), destination, width, 6, depths, stored, store);
        Store8(Avx.Permute2x128(u3, u7, 0x31), destination, width, 7, depths, stored, store);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row8(float* source, int row, nint rowStride, int rows, int depths, Vector256<float> load) =>
        row >= rows ? Vector256<float>.Zero
        : depths == 8 ? Vector256.Load(source + row * rowStride)
        : Avx.MaskLoad(source + row * rowStride, load);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store8(Vector256<float> values, float* destination, nint width, int depth, int depths, int stored, Vector256<float> store)
    {
        if (depth >= depths) return;
        if (stored == 8) values.Store(destination + depth * width);
        else Avx.MaskStore(destination + depth * width, store, values);
    }

    private static Vector256<float> Mask8(int count) => Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(count)).AsSingle();
}
