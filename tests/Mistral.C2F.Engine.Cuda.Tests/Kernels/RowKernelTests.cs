using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// Gather, scatter and scatter-add by row index against the float64 reference: −1 rows, repeated indices for the
/// scatter-add, ragged widths, views off a 16-byte boundary, and an out-of-range index reported as a fault. The
/// scatter-add also equals the CPU backend bit for bit (both add repeated rows in row order).
/// </summary>
public abstract class RowKernelTests(Func<IKernelDevice> device)
{
    private const int TableRows = 11;
    private readonly Random _random = new(4242);

    [Theory]
    [InlineData(1, 1, 0, false)]
    [InlineData(7, 67, 1, false)]
    [InlineData(33, 1025, 0, false)]
    [InlineData(33, 4099, 3, false)]
    [InlineData(7, 67, 1, true)]
    [InlineData(33, 4096, 0, true)]
    public void Gather_copies_rows_and_zeroes_minus_one(int count, int width, int offset, bool bf16)
    {
        float[] table = Numerics.RandomFloats(_random, TableRows * width);
        if (bf16) table = Bf16.Round(table);
        int[] indices = Indices(count, allowRepeats: true);
        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        ulong destination = buffers.Poisoned(count * width, offset, bf16);
        using var kernels = new RowKernels(device(), faults);
        kernels.Gather(bf16 ? buffers.Bf16Values(table, offset) : buffers.Floats(table, offset), TableRows,
            buffers.Ints(indices), destination, count, width, bf16 ? KernelStorage.Bf16 : KernelStorage.F32);
        faults.ThrowIfAny();

        using var reference = new ReferenceBackend();
        var expected = reference.Allocate(count, width);
        reference.GatherRows(reference.FromFloats(table, TableRows, width), reference.FromInts(indices, count), expected);
        var actual = bf16 ? buffers.ReadBf16(destination, count * width) : buffers.ReadFloats(destination, count * width);
        KernelAssert.Close(actual, reference.ToDoubles(expected), 0, "gathered rows (exact)");
    }

    [Theory]
    [InlineData(1, 1, 0, false)]
    [InlineData(7, 67, 1, false)]
    [InlineData(11, 1025, 0, false)]
    [InlineData(7, 67, 1, true)]
    [InlineData(33, 1025, 0, true)]
    [InlineData(33, 4099, 2, true)]
    public void Scatter_and_ScatterAdd_match_reference(int count, int width, int offset, bool add)
    {
        float[] table = Numerics.RandomFloats(_random, TableRows * width), source = Numerics.RandomFloats(_random, count * width);
        int[] indices = Indices(count, allowRepeats: add);
        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        ulong destination = buffers.Floats(table, offset);
        using var kernels = new RowKernels(device(), faults);
        if (add) kernels.ScatterAdd(buffers.Floats(source, offset), buffers.Ints(indices), count, destination, TableRows, width);
        else kernels.Scatter(buffers.Floats(source, offset), buffers.Ints(indices), count, destination, TableRows, width);
        faults.ThrowIfAny();

        using var reference = new ReferenceBackend();
        var expected = reference.FromFloats(table, TableRows, width);
        var (rs, ri) = (reference.FromFloats(source, count, width), reference.FromInts(indices, count));
        if (add) reference.ScatterAddRows(rs, ri, expected);
        else reference.ScatterRows(rs, ri, expected);
        KernelAssert.Close(buffers.ReadFloats(destination, TableRows * width), reference.ToDoubles(expected),
            add ? KernelAssert.F32Tolerance : 0, add ? "scatter-add" : "scatter (exact)");
    }

    [Theory]
    [InlineData(-2, "GatherRows: row index -2")]
    [InlineData(TableRows, "GatherRows: row index 11")]
    public void Out_of_range_index_is_reported_by_the_fault_record(int badIndex, string message)
    {
        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        int[] indices = [0, badIndex, 1];
        using var kernels = new RowKernels(device(), faults);
        kernels.Gather(buffers.Floats(Numerics.RandomFloats(_random, TableRows * 5)), TableRows, buffers.Ints(indices), buffers.Poisoned(15),
            indices.Length, 5);
        var error = Assert.Throws<IndexOutOfRangeException>(faults.ThrowIfAny);
        Assert.StartsWith(message, error.Message);
        faults.ThrowIfAny(); // reading the fault clears it
    }

    /// <summary>
    /// Many rows on few indices, one of them in half the rows (a padding token's embedding gradient): spans longer than
    /// the 256 indices a block stages at once, two column tiles. The sum is the CPU backend's, bit for bit, every run.
    /// </summary>
    [Theory]
    [InlineData(700, 300, 0)]
    [InlineData(1030, 67, 1)]
    public void ScatterAdd_equals_the_cpu_backend_bit_for_bit(int count, int width, int offset)
    {
        const int tableRows = 40;
        float[] table = Numerics.RandomFloats(_random, tableRows * width), source = Numerics.RandomFloats(_random, count * width);
        int[] indices = Enumerable.Range(0, count).Select(i => i % 2 == 0 ? 7 : i % 9 == 1 ? -1 : _random.Next(tableRows)).ToArray();
        using var cpu = new Engine.Backends.Cpu.CpuBackend(2);
        var expected = cpu.FromFloats(table, tableRows, width);
        cpu.ScatterAddRows(cpu.FromFloats(source, count, width), cpu.FromInts(indices, count), expected);
        var expectedValues = cpu.ToFloats(expected);

        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        using var kernels = new RowKernels(device(), faults);
        ulong sourceRows = buffers.Floats(source, offset), indexRows = buffers.Ints(indices);
        for (int run = 0; run < 2; run++)
        {
            ulong destination = buffers.Floats(table, offset);
            kernels.ScatterAdd(sourceRows, indexRows, count, destination, tableRows, width);
            faults.ThrowIfAny();
            Assert.Equal(expectedValues, buffers.ReadFloats(destination, tableRows * width));
        }
    }

    [Fact]
    public void ScatterAdd_reports_an_out_of_range_index_and_adds_the_other_rows()
    {
        const int width = 5;
        using var buffers = new KernelBuffers(device());
        using var faults = new KernelFaults(device());
        using var kernels = new RowKernels(device(), faults);
        float[] source = Numerics.RandomFloats(_random, 3 * width);
        ulong destination = buffers.Floats(new float[TableRows * width]);
        kernels.ScatterAdd(buffers.Floats(source), buffers.Ints([2, TableRows, 2]), 3, destination, TableRows, width);
        var error = Assert.Throws<IndexOutOfRangeException>(faults.ThrowIfAny);
        Assert.StartsWith("ScatterAddRows: row index 11", error.Message);
        var row = buffers.ReadFloats(destination, TableRows * width).AsSpan(2 * width, width).ToArray();
        Assert.Equal(Enumerable.Range(0, width).Select(c => 0f + source[c] + source[2 * width + c]), row);
    }

    /// <summary>Indices into the table with −1 mixed in; without repeats (the scatter's distinct slots) at most 11 rows.</summary>
    private int[] Indices(int count, bool allowRepeats)
    {
        var slots = Enumerable.Range(0, TableRows).OrderBy(_ => _random.Next()).ToArray();
        return Enumerable.Range(0, count)
            .Select(i => i % 4 == 2 ? -1 : allowRepeats ? _random.Next(TableRows) : slots[i])
            .ToArray();
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedRowKernelTests(KernelDevices devices) : RowKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaRowKernelTests(KernelDevices devices) : RowKernelTests(() => devices.Cuda);
