using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// The cache-blocked GEMM driver (GotoBLAS/BLIS loop nest), generic over the micro-kernel:
/// <code>
/// for each block of rows of op(A) (all of them unless A is huge):       one parallel loop over tasks
///   task = a range of ≤ NC columns of C (and of rows when n is small):
///     for each KC-deep slice of the depth:
///       pack the task's KC×NC block of B (private; stays in the core's L2)
///       for each MR-row panel of A (packed once, by whichever task needs it first; stays in L1):
///         for each NR-column panel of B:                                  micro-kernel on one MR×NR tile
/// </code>
/// One parallel loop per call keeps thread wake-ups (10-50 µs each) off the small products. Tasks share
/// packed A without barriers: a panel is claimed by compare-and-swap, and a task that needs a panel
/// another is packing waits only for that copy, which is already running, so nothing can deadlock.
/// </summary>
internal sealed unsafe class BlockedGemm<TKernel> where TKernel : struct, IGemmMicroKernel
{
    // Deepest slice: an MR×KC panel of A (18 KB at MR=12) fits L1 beside the B panels streaming by.
    internal const int KC = 384;
    // Columns per task: the KC×NC block of B (576 KB) stays in a core's 1 MB L2 while all of A streams by.
    private const int NCTarget = 384;
    // Packed A held at once (16 MB); only huge k or m split the rows into several parallel loops.
    private const long PackedAFloats = 4L << 20;
    // Below this many multiply-adds a second thread costs more than it saves.
    private const long ParallelMultiplyAdds = 1 << 22;

    private const int Unpacked = 0, Packing = 1, Packed = 2;

    private static int MR => TKernel.MR;
    private static int NR => TKernel.NR;
    internal static int NC => NCTarget / NR * NR;

    [ThreadStatic] private static BlockedGemm<TKernel>? t_driver;

    private readonly AlignedBuffer _packedA = new();
    private readonly Action<int> _runTask;
    private int[] _panelStates = [];

    // The call.
    private GemmOperand _a, _b;
    private float* _c;
    private int _n, _k, _depthSlice, _slices;
    private bool _accumulate;
    // The current block of rows and its split into tasks.
    private long _row0;
    private int _rows, _panels;
    private int _columnsPerTask, _columnTasks, _panelsPerTask;

    private BlockedGemm() => _runTask = RunTask;

    public static void Multiply(GemmOperand a, GemmOperand b, float* c, int m, int n, int k, bool accumulate, CpuParallel parallel)
    {
        var driver = t_driver ??= new BlockedGemm<TKernel>();
        driver._a = a;
        driver._b = b;
        driver._c = c;
        driver._n = n;
        driver._k = k;
        driver._accumulate = accumulate;
        // Even slices: a last slice of a few depths would cost a whole extra pass over C.
        driver._slices = (k + KC - 1) / KC;
        driver._depthSlice = (k + driver._slices - 1) / driver._slices;
        int rowsPerBlock = RowsPerBlock(m, k);
        bool threaded = parallel.Threads > 1 && (long)m * n * k >= ParallelMultiplyAdds;
        for (long row0 = 0; row0 < m; row0 += rowsPerBlock)
            driver.RunBlock(row0, (int)Math.Min(rowsPerBlock, m - row0), threaded ? parallel : null);
    }

    /// <summary>Rows of op(A) packed and multiplied per parallel loop: all of them, or equal blocks within <see cref="PackedAFloats"/>.</summary>
    internal static int RowsPerBlock(int m, int k)
    {
        long blocks = ((long)RoundUp(m, MR) * k + PackedAFloats - 1) / PackedAFloats;
        return RoundUp((int)((m + blocks - 1) / blocks), MR);
    }

    private void RunBlock(long row0, int rows, CpuParallel? parallel)
    {
        _row0 = row0;
        _rows = rows;
        _panels = (rows + MR - 1) / MR;
        _packedA.Reserve((long)_panels * MR * _k);
        if (_panelStates.Length < _panels * _slices) _panelStates = new int[_panels * _slices];
        else Array.Clear(_panelStates, 0, _panels * _slices);

        // A few tasks per thread, so a thread slowed by other work on the machine is evened out.
        int wanted = parallel is null ? 1 : 2 * parallel.Threads;
        _columnTasks = Math.Max((_n + NC - 1) / NC, Math.Min(wanted, (_n + NR - 1) / NR));
        _columnsPerTask = RoundUp((_n + _columnTasks - 1) / _columnTasks, NR);
        _columnTasks = (_n + _columnsPerTask - 1) / _columnsPerTask;
        // Too few columns (n of a few NR) to keep every thread busy: split the rows too.
        int rowTasks = Math.Min(_panels, (wanted + _columnTasks - 1) / _columnTasks);
        _panelsPerTask = (_panels + rowTasks - 1) / rowTasks;
        rowTasks = (_panels + _panelsPerTask - 1) / _panelsPerTask;

        if (parallel is null)
            for (int task = 0; task < _columnTasks * rowTasks; task++) RunTask(task);
        else
            parallel.ForEach(_columnTasks * rowTasks, _runTask);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunTask(int task)
    {
        int column0 = task % _columnTasks * _columnsPerTask;
        int columns = Math.Min(_columnsPerTask, _n - column0);
        int firstPanel = task / _columnTasks * _panelsPerTask;
        int endPanel = Math.Min(_panels, firstPanel + _panelsPerTask);

        float* bBlock = GemmScratch.PackedB((long)RoundUp(columns, NR) * _depthSlice);
        float* edge = stackalloc float[MR * NR];
        for (int slice = 0; slice < _slices; slice++)
        {
            int depth0 = slice * _depthSlice;
            int depth = Math.Min(_depthSlice, _k - depth0);
            bool accumulate = _accumulate || slice > 0;
            GemmPacking.Pack<TKernel>(_b, column0, columns, depth0, depth, NR, bBlock);
            for (int panel = firstPanel; panel < endPanel; panel++)
            {
                float* aPanel = PackedAPanel(panel, slice, depth0, depth);
                int i = panel * MR;
                int rows = Math.Min(MR, _rows - i);
                float* cRow = _c + (_row0 + i) * _n + column0;
                if (panel + 1 < endPanel) PrefetchToL2(aPanel + MR * depth, MR * depth);
                for (int j = 0; j < columns; j += NR)
                {
                    float* bPanel = bBlock + (long)j * depth;
                    int live = Math.Min(NR, columns - j);
                    if (rows == MR && live == NR)
                        TKernel.Multiply(depth, aPanel, bPanel, cRow + j, _n, accumulate);
                    else
                    {
                        // Edge tile: the kernel fills a whole tile in scratch, only the live part reaches C.
                        TKernel.Multiply(depth, aPanel, bPanel, edge, NR, accumulate: false);
                        StoreEdge(edge, cRow + j, rows, live, accumulate);
                    }
                }
            }
        }
    }

    /// <summary>The packed MR×depth panel of A for one slice, packing it first if no task has yet.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float* PackedAPanel(int panel, int slice, int depth0, int depth)
    {
        float* packed = _packedA.Pointer + (long)depth0 * _panels * MR + (long)panel * MR * depth;
        ref int state = ref _panelStates[slice * _panels + panel];
        if (Volatile.Read(ref state) == Packed) return packed;
        if (Interlocked.CompareExchange(ref state, Packing, Unpacked) == Unpacked)
        {
            int row = panel * MR;
            GemmPacking.Pack<TKernel>(_a, _row0 + row, Math.Min(MR, _rows - row), depth0, depth, MR, packed);
            Volatile.Write(ref state, Packed);
        }
        else
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref state) != Packed) spin.SpinOnce(sleep1Threshold: -1);
        }
        return packed;
    }

    /// <summary>
    /// Requests the next A panel into L2 while this one is in use: once A outgrows L3 (n ≥ 2048) the
    /// hardware prefetcher alone leaves the first tile of each panel waiting on memory.
    /// </summary>
    private static void PrefetchToL2(float* start, int floats)
    {
        if (!Sse.IsSupported) return;
        for (int offset = 0; offset < floats; offset += 16) Sse.Prefetch1(start + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StoreEdge(float* tile, float* c, int rows, int columns, bool accumulate)
    {
        for (int i = 0; i < rows; i++, tile += NR, c += _n)
            for (int j = 0; j < columns; j++)
                c[j] = accumulate ? c[j] + tile[j] : tile[j];
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
