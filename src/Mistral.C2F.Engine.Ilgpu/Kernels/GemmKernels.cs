using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// C = op(A)·op(B) (or C += …) with shared-memory tiling. A group of 16×8 threads computes a 64×64 tile
/// of C, each thread an 8×4 micro-tile in registers (rows ty + 8i, columns tx + 16j: two 4×4 register blocks, so shared reads are
/// broadcasts or consecutive and C writes are coalesced). The K dimension is walked in slices of 16:
/// the group stages a 64×16 slice of op(A) and a 16×64 slice of op(B) in shared memory, k-major, loading
/// along whichever dimension is contiguous in global memory for that transpose case (the case is a
/// uniform branch). Rows of the staged slices are padded by one float so the column-wise stores of the
/// contiguous-in-k cases do not hit one bank. Edges are zero-filled, so any M, N, K works.
/// </summary>
internal sealed class GemmKernels(KernelLaunch launch)
{
    private const int Tile = 64, Slice = 16, ThreadsX = 16, ThreadsY = 8, Stride = Tile + 1;

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape> _multiply =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmShape>(MultiplyKernel);

    internal readonly record struct GemmShape(int M, int N, int K, int TransposeA, int TransposeB, int Accumulate);

    public void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate)
    {
        if (m == 0 || n == 0) return;
        var grid = new Index2D((n + Tile - 1) / Tile, (m + Tile - 1) / Tile);
        _multiply(new KernelConfig(grid, new Index2D(ThreadsX, ThreadsY)), a, b, c,
            new GemmShape(m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, accumulate ? 1 : 0));
    }

    private static void MultiplyKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmShape shape)
    {
        var aSlice = SharedMemory.Allocate<float>(Slice * Stride); // [k][m]
        var bSlice = SharedMemory.Allocate<float>(Slice * Stride); // [k][n]
        int tx = Group.IdxX, ty = Group.IdxY, thread = ty * ThreadsX + tx;
        int rowBase = Grid.IdxY * Tile, columnBase = Grid.IdxX * Tile;
        int m = shape.M, n = shape.N, k = shape.K;

        var top = new Accumulator();    // rows ty + 8i, i < 4
        var bottom = new Accumulator(); // rows ty + 32 + 8i
        for (int k0 = 0; k0 < k; k0 += Slice)
        {
            for (int e = thread; e < Tile * Slice; e += ThreadsX * ThreadsY)
            {
                // op(A)[row, kk]: A is [M, K] (contiguous in k) or, transposed, [K, M] (contiguous in m).
                int kk = shape.TransposeA != 0 ? e / Tile : e % Slice;
                int row = shape.TransposeA != 0 ? e % Tile : e / Slice;
                int gm = rowBase + row, gk = k0 + kk;
                aSlice[kk * Stride + row] = gm < m && gk < k ? a[shape.TransposeA != 0 ? (long)gk * m + gm : (long)gm * k + gk] : 0f;

                // op(B)[kk, col]: B is [K, N] (contiguous in n) or, transposed, [N, K] (contiguous in k).
                kk = shape.TransposeB != 0 ? e % Slice : e / Tile;
                int col = shape.TransposeB != 0 ? e / Slice : e % Tile;
                int gn = columnBase + col;
                gk = k0 + kk;
                bSlice[kk * Stride + col] = gn < n && gk < k ? b[shape.TransposeB != 0 ? (long)gn * k + gk : (long)gk * n + gn] : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < Slice; kk++)
            {
                top.Add(aSlice, bSlice, kk * Stride, ty, tx);
                bottom.Add(aSlice, bSlice, kk * Stride, ty + Tile / 2, tx);
            }
            Group.Barrier();
        }
        top.Store(c, shape, rowBase + ty, columnBase + tx);
        bottom.Store(c, shape, rowBase + ty + Tile / 2, columnBase + tx);
    }

    /// <summary>A 4×4 block of C (rows row + 8i, columns column + 16j), unrolled so it lives in registers.</summary>
    private struct Accumulator
    {
        private float _c00, _c01, _c02, _c03, _c10, _c11, _c12, _c13, _c20, _c21, _c22, _c23, _c30, _c31, _c32, _c33;

        public void Add(ArrayView<float> aSlice, ArrayView<float> bSlice, int offset, int row, int column)
        {
            float a0 = aSlice[offset + row], a1 = aSlice[offset + row + ThreadsY];
            float a2 = aSlice[offset + row + 2 * ThreadsY], a3 = aSlice[offset + row + 3 * ThreadsY];
            float b0 = bSlice[offset + column], b1 = bSlice[offset + column + ThreadsX];
            float b2 = bSlice[offset + column + 2 * ThreadsX], b3 = bSlice[offset + column + 3 * ThreadsX];
            _c00 += a0 * b0; _c01 += a0 * b1; _c02 += a0 * b2; _c03 += a0 * b3;
            _c10 += a1 * b0; _c11 += a1 * b1; _c12 += a1 * b2; _c13 += a1 * b3;
            _c20 += a2 * b0; _c21 += a2 * b1; _c22 += a2 * b2; _c23 += a2 * b3;
            _c30 += a3 * b0; _c31 += a3 * b1; _c32 += a3 * b2; _c33 += a3 * b3;
        }

        public readonly void Store(ArrayView<float> c, GemmShape shape, int row, int column)
        {
            StoreRow(c, shape, row, column, _c00, _c01, _c02, _c03);
            StoreRow(c, shape, row + ThreadsY, column, _c10, _c11, _c12, _c13);
            StoreRow(c, shape, row + 2 * ThreadsY, column, _c20, _c21, _c22, _c23);
            StoreRow(c, shape, row + 3 * ThreadsY, column, _c30, _c31, _c32, _c33);
        }

        private static void StoreRow(ArrayView<float> c, GemmShape shape, int row, int column, float v0, float v1, float v2, float v3)
        {
            if (row >= shape.M) return;
            Store(c, shape, row, column, v0);
            Store(c, shape, row, column + ThreadsX, v1);
            Store(c, shape, row, column + 2 * ThreadsX, v2);
            Store(c, shape, row, column + 3 * ThreadsX, v3);
        }

        private static void Store(ArrayView<float> c, GemmShape shape, int row, int column, float value)
        {
            if (column >= shape.N) return;
            long index = (long)row * shape.N + column;
            c[index] = shape.Accumulate != 0 ? c[index] + value : value;
        }
    }
}
