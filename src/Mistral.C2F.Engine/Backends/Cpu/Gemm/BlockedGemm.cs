using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Mistral.C2F.Engine.Backends.Cpu.Gemm;

/// <summary>
/// The cache-blocked GEMM driver (GotoBLAS/BLIS loop nest), generic over the micro-kernel:
/// <code>
/// for each block of rows of op(A) (all of them unless m is huge):
///   for each KC-deep slice of the depth:                          one parallel loop over tasks
///     task = a range of ≤ NC columns of C (and of rows when n is small):
///       pack A's rows × KC slice (shared: whichever task comes first packs a claim of rows)
///       pack the task's KC×NC block of B (private; stays in the core's L2)
///       for each MR-row panel of A (stays in L1):
///         for each NR-column panel of B:                          micro-kernel on one MR×NR tile of C
/// </code>
/// Tasks share packed A without barriers: rows are claimed by compare-and-swap, and a task that needs
/// rows another task is packing waits only for that copy, which is already running, so nothing can
/// deadlock even when a thread pool runs the tasks one after another. The packed slice (≤ 4 MB) is
/// reused slice after slice, so packing writes into cache rather than memory.
/// </summary>
internal sealed unsafe class BlockedGemm<TKernel> where TKernel : struct, IGemmMicroKernel
{
    // Deepest slice: an MR×KC panel of A (18 KB at MR=12) fits L1 beside the B panels streaming by.
    internal const int KC = 384;
    // Columns per task: the KC×NC block of B (576 KB) stays in a core's 1 MB L2 while all of A streams by.
    private const int NCTarget = 384;
    // Packed A slice (4 MB): only m above ~2700 splits the rows into blocks, each packing B again.
    private const long PackedAFloats = 1L << 20;
    // Rows of A packed per claim. A stored k×m is copied a depth at a time, from rows of A that may lie
    // 16 KB apart: each claim then reads whole cache lines.
    private const int RowsPerClaim = 96;
    // Below this many multiply-adds (~35 µs on one core) waking a second thread costs more than it saves.
    private const long ParallelMultiplyAdds = 1 << 22;
    // Tasks per thread: a few, so that a thread slowed by other work on the machine is evened out.
    private const int TasksPerThread = 2;

    private const int Unpacked = 0, Packing = 1, Packed = 2;

    private static int MR => TKernel.MR;
    private static int NR => TKernel.NR;
    private static int PanelsPerClaim => Math.Max(1, RowsPerClaim / MR);
    internal static int NC => NCTarget / NR * NR;

    [ThreadStatic] private static BlockedGemm<TKernel>? t_driver;

    private readonly AlignedBuffer _packedA = new();
    private readonly Action<int> _runTask;
    private int[] _claimStates = [];

    // The call.
    private GemmOperand _a, _b;
    private float* _c;
    private int _n;
    // The current block of rows, its split into tasks, and the current slice of the depth.
    private long _row0;
    private int _rows, _panels, _claims;
    private int _columnPanels, _columnTasks, _rowTasks;
    private int _depth0, _depth;
    private bool _accumulate;

    private BlockedGemm() => _runTask = RunTask;

    public static void Multiply(GemmOperand a, GemmOperand b, float* c, int m, int n, int k, bool accumulate, CpuParallel parallel)
    {
        var driver = t_driver ??= new BlockedGemm<TKernel>();
        driver._a = a;
        driver._b = b;
        driver._c = c;
        driver._n = n;
        var threads = parallel.Threads > 1 && (long)m * n * k >= ParallelMultiplyAdds ? parallel : null;
        int depthSlice = DepthSlice(k), rowsPerBlock = RowsPerBlock(m, k);
        driver._packedA.Reserve((long)rowsPerBlock * depthSlice);
        for (long row0 = 0; row0 < m; row0 += rowsPerBlock)
        {
            driver.SplitBlock(row0, (int)Math.Min(rowsPerBlock, m - row0), threads);
            for (int depth0 = 0; depth0 < k; depth0 += depthSlice)
                driver.RunSlice(depth0, Math.Min(depthSlice, k - depth0), accumulate || depth0 > 0, threads);
        }
    }

    /// <summary>Rows of op(A) per block: all of them, or equal blocks whose packed slice fits <see cref="PackedAFloats"/>.</summary>
    internal static int RowsPerBlock(int m, int k)
    {
        long blocks = ((long)RoundUp(m, MR) * DepthSlice(k) + PackedAFloats - 1) / PackedAFloats;
        return RoundUp((int)((m + blocks - 1) / blocks), MR);
    }

    /// <summary>Depths per slice, ≤ KC and even: a last slice of a few depths would cost a whole extra pass over C.</summary>
    private static int DepthSlice(int k)
    {
        int slices = (k + KC - 1) / KC;
        return (k + slices - 1) / slices;
    }

    private void SplitBlock(long row0, int rows, CpuParallel? threads)
    {
        _row0 = row0;
        _rows = rows;
        _panels = (rows + MR - 1) / MR;
        _claims = (_panels + PanelsPerClaim - 1) / PanelsPerClaim;
        if (_claimStates.Length < _claims) _claimStates = new int[_claims];

        // Tasks share out whole NR panels as evenly as they go: a task one panel short of the others
        // would leave a thread idle at the end of every slice.
        int wanted = threads is null ? 1 : TasksPerThread * threads.Threads;
        _columnPanels = (_n + NR - 1) / NR;
        _columnTasks = Math.Min(_columnPanels, Math.Max((_columnPanels + NC / NR - 1) / (NC / NR), wanted));
        // Too few columns (n of a few NR) to keep every thread busy: split the rows too.
        _rowTasks = Math.Min(_panels, (wanted + _columnTasks - 1) / _columnTasks);
    }

    private void RunSlice(int depth0, int depth, bool accumulate, CpuParallel? threads)
    {
        _depth0 = depth0;
        _depth = depth;
        _accumulate = accumulate;
        Array.Clear(_claimStates, 0, _claims);
        if (threads is null)
            for (int task = 0; task < _columnTasks * _rowTasks; task++) RunTask(task);
        else
            threads.ForEach(_columnTasks * _rowTasks, _runTask);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunTask(int task)
    {
        var (columnTask, rowTask) = (task % _columnTasks, task / _columnTasks);
        int column0 = Share(_columnPanels, _columnTasks, columnTask) * NR;
        int columns = Math.Min(_n, Share(_columnPanels, _columnTasks, columnTask + 1) * NR) - column0;
        int firstPanel = Share(_panels, _rowTasks, rowTask), endPanel = Share(_panels, _rowTasks, rowTask + 1);
        int depth = _depth;

        PackA(firstPanel, endPanel);
        float* bBlock = GemmScratch.PackedB((long)RoundUp(columns, NR) * depth);
        GemmPacking.Pack<TKernel>(_b, column0, columns, _depth0, depth, NR, bBlock);

        float* edge = stackalloc float[MR * NR];
        for (int panel = firstPanel; panel < endPanel; panel++)
        {
            float* aPanel = _packedA.Pointer + (long)panel * MR * depth;
            int i = panel * MR;
            int rows = Math.Min(MR, _rows - i);
            float* cRow = _c + (_row0 + i) * _n + column0;
            if (panel + 1 < endPanel) PrefetchToL2(aPanel + MR * depth, MR * depth);
            for (int j = 0; j < columns; j += NR)
            {
                float* bPanel = bBlock + (long)j * depth;
                int live = Math.Min(NR, columns - j);
                if (rows == MR && live == NR)
                    TKernel.Multiply(depth, aPanel, bPanel, cRow + j, _n, _accumulate);
                else
                {
                    // Edge tile: the kernel fills a whole tile in scratch, only the live part reaches C.
                    TKernel.Multiply(depth, aPanel, bPanel, edge, NR, accumulate: false);
                    StoreEdge(edge, cRow + j, rows, live);
                }
            }
        }
    }

    /// <summary>
    /// Packs the current slice of A for panels first..end-1: every claim of that range that no task has
    /// taken yet, then waits for those that other tasks are still packing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackA(int firstPanel, int endPanel)
    {
        int firstClaim = firstPanel / PanelsPerClaim, endClaim = (endPanel - 1) / PanelsPerClaim + 1;
        for (int claim = firstClaim; claim < endClaim; claim++)
        {
            ref int state = ref _claimStates[claim];
            if (Volatile.Read(ref state) != Unpacked || Interlocked.CompareExchange(ref state, Packing, Unpacked) != Unpacked) continue;
            int row = claim * PanelsPerClaim * MR;
            GemmPacking.Pack<TKernel>(_a, _row0 + row, Math.Min(PanelsPerClaim * MR, _rows - row), _depth0, _depth, MR,
                _packedA.Pointer + (long)row * _depth);
            Volatile.Write(ref state, Packed);
        }
        for (int claim = firstClaim; claim < endClaim; claim++)
        {
            ref int state = ref _claimStates[claim];
            var spin = new SpinWait();
            while (Volatile.Read(ref state) != Packed) spin.SpinOnce(sleep1Threshold: -1);
        }
    }

    /// <summary>
    /// Requests the next A panel into L2 while this one is in use: the hardware prefetcher alone left
    /// the first tile of each panel waiting on memory once A outgrew the caches (n = 2048).
    /// </summary>
    private static void PrefetchToL2(float* start, int floats)
    {
        if (!Sse.IsSupported) return;
        for (int offset = 0; offset < floats; offset += 16) Sse.Prefetch1(start + offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StoreEdge(float* tile, float* c, int rows, int columns)
    {
        for (int i = 0; i < rows; i++, tile += NR, c += _n)
            for (int j = 0; j < columns; j++)
                c[j] = _accumulate ? c[j] + tile[j] : tile[j];
    }

    /// <summary>Where part <paramref name="part"/> of <paramref name="items"/> split into <paramref name="parts"/> near-equal parts starts.</summary>
    private static int Share(int items, int parts, int part) => (int)((long)items * part / parts);

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
