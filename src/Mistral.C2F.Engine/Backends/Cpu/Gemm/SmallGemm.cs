using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// Products with a few rows of op(A), such as decoding one token: matrix-vector work bound by reading
/// B, which packing would read and write once more and a tiled kernel would mostly waste on padding.
/// B is streamed once in its own layout, split by columns across threads.
/// </summary>
internal sealed unsafe class SmallGemm
{
    private const int MaxRows = 4;

    /// <summary>
    /// With B n×k every row of B is read once for all rows of op(A) (the dots of a B row stay in L1), so up to
    /// 8 rows (batched decoding: 644 → 930 tokens/s at batch 8 on the small preset) beat packing B; at 16 the
    /// two were even. With B k×n each row of op(A) passes over B again, so 4.
    /// </summary>
    private const int MaxRowsOfDots = 8;

    public static bool Handles(int m, bool transposeB) => m <= (transposeB ? MaxRowsOfDots : MaxRows);
    // Columns of C updated per pass over the depth when B is k×n: the slice of C stays in L1.
    private const int ColumnChunk = 1024;
    private const long ParallelMultiplyAdds = 1 << 18;
    /// <summary>
    /// Threads split the columns at multiples of this: a column's dot then takes the same path (four at a time, or one of
    /// the last n mod 4) and a slice the same vector lanes whatever the thread count, so the product is the same bits.
    /// </summary>
    private const int ColumnGroup = 16;

    [ThreadStatic] private static SmallGemm? t_instance;

    private readonly Action<long, long> _runGroups;
    private float* _rows, _b, _c;
    private int _m, _n, _k;
    private bool _transposeB, _accumulate;

    private SmallGemm() => _runGroups = RunGroups;

    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate, CpuParallel parallel)
    {
        var job = t_instance ??= new SmallGemm();
        job._rows = transposeA ? GatherRows(a, m, k) : a;
        job._b = b;
        job._c = c;
        job._m = m;
        job._n = n;
        job._k = k;
        job._transposeB = transposeB;
        job._accumulate = accumulate;
        long work = (long)m * n * k;
        if (parallel.Threads > 1 && work >= ParallelMultiplyAdds)
            parallel.ForRanges((n + ColumnGroup - 1) / ColumnGroup, job._runGroups,
                minimumItemsPerRange: Math.Max(1, ParallelMultiplyAdds / ((long)m * k * ColumnGroup)));
        else
            job.Run(0, n);
    }

    private void RunGroups(long firstGroup, long endGroup) => Run(firstGroup * ColumnGroup, Math.Min(_n, endGroup * ColumnGroup));

    /// <summary>op(A) rows made contiguous when A is stored k×m (at most <see cref="MaxRowsOfDots"/>·k floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float* GatherRows(float* a, int m, int k)
    {
        float* rows = GemmScratch.Rows((long)m * k);
        for (int p = 0; p < k; p++)
            for (int i = 0; i < m; i++)
                rows[(long)i * k + p] = a[(long)p * m + i];
        return rows;
    }

    private void Run(long start, long end)
    {
        if (_transposeB)
            RunDots(start, end);
        else
            for (long j = start; j < end; j += ColumnChunk) RunAxpys(j, (int)Math.Min(ColumnChunk, end - j));
    }

    /// <summary>
    /// B is n×k: every element of C is a dot product of two contiguous rows. Four rows of B are read side by
    /// side against each row of op(A), so four memory streams are in flight (one at a time left decoding at a
    /// third of the memory bandwidth).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunDots(long start, long end)
    {
        long j = start;
        for (; j + 4 <= end; j += 4)
        {
            float* b0 = _b + j * _k;
            for (int i = 0; i < _m; i++)
            {
                var (d0, d1, d2, d3) = Dot4(_rows + (long)i * _k, b0, _k);
                float* target = _c + (long)i * _n + j;
                if (_accumulate) (d0, d1, d2, d3) = (target[0] + d0, target[1] + d1, target[2] + d2, target[3] + d3);
                (target[0], target[1], target[2], target[3]) = (d0, d1, d2, d3);
            }
        }
        for (; j < end; j++)
        {
            var column = new ReadOnlySpan<float>(_b + j * _k, _k);
            for (int i = 0; i < _m; i++)
            {
                float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(_rows + (long)i * _k, _k), column);
                float* target = _c + (long)i * _n + j;
                *target = _accumulate ? *target + dot : dot;
            }
        }
    }

    /// <summary>x·b0, x·b1, x·b2, x·b3 for four consecutive rows b of length k (row stride k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float, float, float) Dot4(float* x, float* b, int k)
    {
        var (s0, s1, s2, s3) = (Vector<float>.Zero, Vector<float>.Zero, Vector<float>.Zero, Vector<float>.Zero);
        int w = Vector<float>.Count, p = 0;
        for (; p + w <= k; p += w)
        {
            var xv = Unsafe.ReadUnaligned<Vector<float>>(x + p);
            s0 = Vector.FusedMultiplyAdd(xv, Unsafe.ReadUnaligned<Vector<float>>(b + p), s0);
            s1 = Vector.FusedMultiplyAdd(xv, Unsafe.ReadUnaligned<Vector<float>>(b + k + p), s1);
            s2 = Vector.FusedMultiplyAdd(xv, Unsafe.ReadUnaligned<Vector<float>>(b + 2L * k + p), s2);
            s3 = Vector.FusedMultiplyAdd(xv, Unsafe.ReadUnaligned<Vector<float>>(b + 3L * k + p), s3);
        }
        float d0 = Vector.Sum(s0), d1 = Vector.Sum(s1), d2 = Vector.Sum(s2), d3 = Vector.Sum(s3);
        for (; p < k; p++)
        {
            d0 += x[p] * b[p];
            d1 += x[p] * b[k + p];
            d2 += x[p] * b[2L * k + p];
            d3 += x[p] * b[3L * k + p];
        }
        return (d0, d1, d2, d3);
    }

    /// <summary>B is k×n: a slice of each row of C gathers a(i,p)·B[p, slice] over the depth.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunAxpys(long column0, int columns)
    {
        for (int i = 0; i < _m; i++)
        {
            var target = new Span<float>(_c + (long)i * _n + column0, columns);
            if (!_accumulate) target.Clear();
            float* row = _rows + (long)i * _k;
            for (int p = 0; p < _k; p++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(_b + (long)p * _n + column0, columns), row[p], target, target);
        }
    }
}
