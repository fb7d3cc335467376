using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Cuda.Kernels;
using Mistral.C2F.Engine.Cuda.Tests.Support;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Cuda.Tests.Kernels;

/// <summary>
/// The bf16 flash attention against the float64 reference (<see cref="ReferenceBackend"/>, positions 0..S−1, or
/// right-padded: 0..L_b−1 then empty slots) on the bf16-rounded inputs, at ragged lengths (no multiple of any tile).
/// Empty slots hold NaN in q, k, v and dO, so reading one fails; their outputs must be exactly 0, their
/// log-sum-exps −inf and their gradients untouched. Measured on the emulator: output, dq, dk, dv near 2e-3
/// relative (bf16 output and bf16 P in the second products), log-sum-exp near 5e-8.
/// </summary>
public abstract class FlashAttentionKernelTests(Func<IKernelDevice> device)
{
    private const double Bf16Tolerance = 1e-2;
    private const uint Bf16PairPoison = 0x7FC07FC0, Float32Poison = 0x7FC00000;
    private const ushort Bf16NaN = 0x7FC0;
    private readonly Random _random = new();

    private IKernelDevice Device => device();

    [Theory]
    [InlineData(1, 16, 1, 1, 64, null, null)]
    [InlineData(2, 37, 4, 2, 64, null, null)]     // GQA 2:1, one partial query tile
    [InlineData(1, 70, 2, 1, 128, 24, null)]      // sliding window: skipped and edge-masked key tiles
    [InlineData(3, 70, 2, 1, 64, null, "70,33,0")] // right padding: a full row, a tile cut in two, a wholly empty row
    [InlineData(2, 150, 2, 2, 128, 40, "5,131")]  // padding across tiles with a window: whole blocks of empty rows and keys
    public void Forward_matches_the_float64_reference(int batch, int length, int queryHeads, int kvHeads, int headDim, int? window,
        string? lengths)
    {
        using var run = new Run(Device, _random, batch, length, new AttentionSpec(queryHeads, kvHeads, headDim, window), Lengths(lengths));
        run.Forward();
        var output = run.Output();
        KernelAssert.Close(output, run.Expected.Output, Bf16Tolerance, $"{run}: output");
        Assert.All(run.EmptyRowElements(run.QueryWidth), i => Assert.Equal(0f, output[i]));
        KernelAssert.LogSumExp(run.LogSumExp(), run.Expected.LogSumExp, $"{run}: log-sum-exp");
    }

    /// <param name="deterministic">dQ by its own pass instead of float atomics.</param>
    [Theory]
    [InlineData(1, 16, 1, 1, 64, null, null, false)]
    [InlineData(2, 37, 4, 2, 64, null, null, false)]
    [InlineData(1, 70, 2, 1, 128, 24, null, false)]
    [InlineData(3, 70, 2, 1, 64, null, "70,33,0", false)]
    [InlineData(2, 150, 2, 2, 128, 40, "5,131", false)]
    [InlineData(2, 37, 4, 2, 64, null, null, true)]
    [InlineData(1, 150, 2, 1, 128, 40, null, true)]
    [InlineData(3, 70, 2, 1, 64, null, "70,33,0", true)]
    public void Backward_accumulates_the_float64_gradients(int batch, int length, int queryHeads, int kvHeads, int headDim, int? window,
        string? lengths, bool deterministic)
    {
        using var run = new Run(Device, _random, batch, length, new AttentionSpec(queryHeads, kvHeads, headDim, window), Lengths(lengths));
        run.Forward();
        var (dq, dk, dv) = run.Backward(deterministic);
        KernelAssert.Close(dq, run.Expected.QueryGrad, Bf16Tolerance, $"{run}: dq");
        KernelAssert.Close(dk, run.Expected.KeyGrad, Bf16Tolerance, $"{run}: dk");
        KernelAssert.Close(dv, run.Expected.ValueGrad, Bf16Tolerance, $"{run}: dv");
        Assert.All(run.EmptyRowElements(run.QueryWidth), i => Assert.Equal(0f, dq[i]));
        Assert.All(run.EmptyRowElements(run.KvWidth), i => Assert.Equal((0f, 0f), (dk[i], dv[i])));
    }

    /// <summary>
    /// The deterministic backward gives the same bits on every run: two runs from the same starting gradients, with
    /// the emulator's blocks spread over its worker threads, agree exactly.
    /// </summary>
    [Fact]
    public void The_deterministic_backward_repeats_bit_for_bit()
    {
        using var run = new Run(Device, _random, 2, 150, new AttentionSpec(4, 2, 64, null), [150, 97]);
        run.Forward();
        var first = run.Backward(deterministic: true);
        run.RestartGradients();
        var second = run.Backward(deterministic: true);
        Assert.Equal(first.QueryGrad, second.QueryGrad);
        Assert.Equal(first.KeyGrad, second.KeyGrad);
        Assert.Equal(first.ValueGrad, second.ValueGrad);
    }

    private static int[]? Lengths(string? lengths) => lengths?.Split(',').Select(int.Parse).ToArray();

    [Fact]
    public void Head_dims_other_than_64_and_128_are_refused()
    {
        var kernels = new FlashAttentionKernels(Device);
        Assert.Throws<ArgumentException>(() => kernels.Forward(0, 0, 0, 0, 0, 1, 8, new AttentionSpec(1, 1, 96, null)));
    }

    /// <summary>The reference's results on the same bf16-rounded inputs; gradients as accumulated from zero.</summary>
    private sealed record Expectation(double[] Output, double[] LogSumExp, double[] QueryGrad, double[] KeyGrad, double[] ValueGrad);

    /// <summary>One attention problem: random bf16 inputs on the device, the reference's answer, poisoned outputs.</summary>
    private sealed class Run : IDisposable
    {
        private readonly IKernelDevice _device;
        private readonly FlashAttentionKernels _kernels;
        private readonly int _batch, _length;
        private readonly int[]? _lengths;
        private readonly AttentionSpec _spec;
        private readonly long _queryElements, _kvElements, _rowHeads;
        private readonly DeviceBuffer _q, _k, _v, _outputGrad, _output, _logSumExp, _scratch, _queryGrad, _keyGrad, _valueGrad, _lengthBuffer;
        private readonly float[] _initialQueryGrad, _initialKeyGrad, _initialValueGrad;

        /// <param name="lengths">Filled slots per sequence (right padding), or null for none.</param>
        public Run(IKernelDevice device, Random random, int batch, int length, AttentionSpec spec, int[]? lengths)
        {
            (_device, _batch, _length, _spec, _lengths) = (device, batch, length, spec, lengths);
            _kernels = new FlashAttentionKernels(device);
            _queryElements = (long)batch * length * spec.QueryHeads * spec.HeadDim;
            _kvElements = (long)batch * length * spec.KvHeads * spec.HeadDim;
            _rowHeads = (long)batch * spec.QueryHeads * length;

            var q = WithEmptySlots(Bf16(random, _queryElements, 2f), QueryWidth);
            var k = WithEmptySlots(Bf16(random, _kvElements, 2f), KvWidth);
            var v = WithEmptySlots(Bf16(random, _kvElements, 1f), KvWidth);
            var outputGrad = WithEmptySlots(Bf16(random, _queryElements, 1f), QueryWidth);
            (_q, _k, _v, _outputGrad) = (Upload(q), Upload(k), Upload(v), Upload(outputGrad));
            _lengthBuffer = _device.Allocate(batch * sizeof(int));
            _device.Upload<int>(lengths ?? Enumerable.Repeat(length, batch).ToArray(), _lengthBuffer.Address);

            _output = Poisoned(_queryElements * sizeof(ushort), Bf16PairPoison);
            _logSumExp = Poisoned(_rowHeads * sizeof(float), Float32Poison);
            _scratch = Poisoned(FlashAttentionKernels.BackwardScratchBytes(batch, length, spec), Float32Poison);
            // Gradients accumulate: they start from random values, which the check subtracts again.
            (_initialQueryGrad, _queryGrad) = RandomFloats(random, _queryElements);
            (_initialKeyGrad, _keyGrad) = RandomFloats(random, _kvElements);
            (_initialValueGrad, _valueGrad) = RandomFloats(random, _kvElements);

            Expected = Reference(q, k, v, outputGrad);
        }

        public Expectation Expected { get; }

        public int QueryWidth => _spec.QueryHeads * _spec.HeadDim;
        public int KvWidth => _spec.KvHeads * _spec.HeadDim;

        /// <summary>Without padding the kernels take no lengths (address 0).</summary>
        private ulong LengthAddress => _lengths is null ? 0 : _lengthBuffer.Address;

        public void Forward() => _kernels.Forward(_q.Address, _k.Address, _v.Address, _output.Address, _logSumExp.Address, _batch, _length, _spec,
            LengthAddress);

        public (float[] QueryGrad, float[] KeyGrad, float[] ValueGrad) Backward(bool deterministic)
        {
            _kernels.Backward(_q.Address, _k.Address, _v.Address, _output.Address, _logSumExp.Address, _outputGrad.Address, _scratch.Address,
                _queryGrad.Address, _keyGrad.Address, _valueGrad.Address, _batch, _length, _spec, LengthAddress, deterministic);
            return (Accumulated(_queryGrad, _initialQueryGrad), Accumulated(_keyGrad, _initialKeyGrad), Accumulated(_valueGrad, _initialValueGrad));
        }

        public float[] Output()
        {
            var bits = new ushort[_queryElements];
            _device.Download(_output.Address, bits.AsSpan());
            var values = new float[bits.Length];
            BFloat16.ToSingle(bits, values);
            return values;
        }

        public float[] LogSumExp()
        {
            var values = new float[_rowHeads];
            _device.Download(_logSumExp.Address, values.AsSpan());
            return values;
        }

        /// <summary>Puts the starting values back into the gradients, for another backward from the same state.</summary>
        public void RestartGradients()
        {
            _device.Upload<float>(_initialQueryGrad, _queryGrad.Address);
            _device.Upload<float>(_initialKeyGrad, _keyGrad.Address);
            _device.Upload<float>(_initialValueGrad, _valueGrad.Address);
        }

        /// <summary>The flat indices, in a [B, S, width] tensor, of every element of an empty slot.</summary>
        public IEnumerable<int> EmptyRowElements(int width) =>
            Enumerable.Range(0, _batch * _length).Where(slot => !Filled(slot)).SelectMany(slot => Enumerable.Range(slot * width, width));

        public override string ToString() =>
            $"flash attention B={_batch} S={_length} H={_spec.QueryHeads}/{_spec.KvHeads} D={_spec.HeadDim} W={_spec.SlidingWindow}" +
            (_lengths is null ? "" : $" lengths={string.Join(',', _lengths)}");

        public void Dispose()
        {
            foreach (var buffer in new[] { _q, _k, _v, _outputGrad, _output, _logSumExp, _scratch, _queryGrad, _keyGrad, _valueGrad, _lengthBuffer })
                buffer.Dispose();
        }

        private bool Filled(int slot) => _lengths is null || slot % _length < _lengths[slot / _length];

        /// <summary>NaN in every element of an empty slot: the kernels must not read them.</summary>
        private ushort[] WithEmptySlots(ushort[] values, int width)
        {
            for (int slot = 0; slot < _batch * _length; slot++)
                if (!Filled(slot)) values.AsSpan(slot * width, width).Fill(Bf16NaN);
            return values;
        }

        private Expectation Reference(ushort[] q, ushort[] k, ushort[] v, ushort[] outputGrad)
        {
            using var reference = new ReferenceBackend();
            int queryWidth = _spec.QueryHeads * _spec.HeadDim, kvWidth = _spec.KvHeads * _spec.HeadDim;
            using var qs = RoundedTensor(reference, q, _length, queryWidth);
            using var ks = RoundedTensor(reference, k, _length, kvWidth);
            using var vs = RoundedTensor(reference, v, _length, kvWidth);
            using var dOut = RoundedTensor(reference, outputGrad, _length, queryWidth);
            var positions = Enumerable.Range(0, _batch * _length).Select(slot => Filled(slot) ? slot % _length : -1).ToArray();
            using var positionTensor = reference.FromInts(positions, _batch, _length);
            using var output = reference.Allocate(_batch, _length, queryWidth);
            using var lse = reference.Allocate(_batch, _spec.QueryHeads, _length);
            reference.Attention(qs, ks, vs, positionTensor, positionTensor, _spec, output, lse);
            using var dq = reference.Allocate(_batch, _length, queryWidth);
            using var dk = reference.Allocate(_batch, _length, kvWidth);
            using var dv = reference.Allocate(_batch, _length, kvWidth);
            foreach (var gradient in new[] { dq, dk, dv }) reference.Zero(gradient);
            reference.AttentionBackward(qs, ks, vs, positionTensor, positionTensor, _spec, output, lse, dOut, dq, dk, dv);
            return new Expectation(reference.ToDoubles(output), reference.ToDoubles(lse),
                reference.ToDoubles(dq), reference.ToDoubles(dk), reference.ToDoubles(dv));
        }

        private Tensor RoundedTensor(ReferenceBackend reference, ushort[] bits, int length, int width)
        {
            var tensor = reference.Allocate(_batch, length, width);
            reference.Upload(bits.Select(b => (double)BFloat16.ToSingle(b)).ToArray(), tensor);
            return tensor;
        }

        private static ushort[] Bf16(Random random, long count, float scale) =>
            Numerics.RandomFloats(random, count, scale).Select(BFloat16.FromSingle).ToArray();

        private DeviceBuffer Upload(ushort[] bits)
        {
            var buffer = _device.Allocate(bits.Length * sizeof(ushort));
            _device.Upload<ushort>(bits, buffer.Address);
            return buffer;
        }

        private DeviceBuffer Poisoned(long bytes, uint poison)
        {
            var buffer = _device.Allocate(bytes);
            _device.Fill32(buffer.Address, poison, bytes / sizeof(uint));
            return buffer;
        }

        private (float[] Initial, DeviceBuffer Buffer) RandomFloats(Random random, long count)
        {
            var values = Numerics.RandomFloats(random, count);
            var buffer = _device.Allocate(count * sizeof(float));
            _device.Upload<float>(values, buffer.Address);
            return (values, buffer);
        }

        private float[] Accumulated(DeviceBuffer buffer, float[] initial)
        {
            var values = new float[initial.Length];
            _device.Download(buffer.Address, values.AsSpan());
            for (int i = 0; i < values.Length; i++) values[i] -= initial[i];
            return values;
        }
    }
}

[Trait("Backend", "cuda-emu")]
public sealed class EmulatedFlashAttentionKernelTests(KernelDevices devices) : FlashAttentionKernelTests(() => devices.Emulator);

[Trait("Backend", "cuda")]
public sealed class CudaFlashAttentionKernelTests(KernelDevices devices) : FlashAttentionKernelTests(() => devices.Cuda);
