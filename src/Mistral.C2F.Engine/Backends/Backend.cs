using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// The op contract: a small set of fused ops that the model and the trainers are written against.
/// Each public method checks shapes and dtypes once, for every backend, then calls the backend's kernel.
/// Matrices are row-major; a tensor of rank &gt; 2 is a matrix of <see cref="Shape.Rows"/> × <see cref="Shape.Columns"/>.
/// Outputs are written, never read, unless the op says it accumulates.
/// </summary>
public abstract class Backend : IDisposable
{
    public abstract string Name { get; }

    /// <summary>The floating-point type of activations and parameters on this backend.</summary>
    public abstract DType FloatType { get; }

    // ---- memory -------------------------------------------------------------------------------

    /// <summary>Uninitialised storage for a tensor: callers write before they read.</summary>
    public abstract Tensor Allocate(Shape shape, DType dtype);

    public Tensor Allocate(params int[] dims) => Allocate(new Shape(dims), FloatType);

    public abstract void Upload(ReadOnlySpan<float> source, Tensor destination);
    public abstract void Upload(ReadOnlySpan<double> source, Tensor destination);
    public abstract void Upload(ReadOnlySpan<int> source, Tensor destination);
    public abstract void Download(Tensor source, Span<float> destination);
    public abstract void Download(Tensor source, Span<double> destination);
    public abstract void Download(Tensor source, Span<int> destination);

    public Tensor FromFloats(ReadOnlySpan<float> values, params int[] dims)
    {
        var t = Allocate(new Shape(dims), FloatType);
        Upload(values, t);
        return t;
    }

    public Tensor FromInts(ReadOnlySpan<int> values, params int[] dims)
    {
        var t = Allocate(new Shape(dims), DType.I32);
        Upload(values, t);
        return t;
    }

    public float[] ToFloats(Tensor t)
    {
        var values = new float[t.ElementCount];
        Download(t, values);
        return values;
    }

    public double[] ToDoubles(Tensor t)
    {
        var values = new double[t.ElementCount];
        Download(t, values);
        return values;
    }

    // ---- ops ----------------------------------------------------------------------------------

    /// <summary>dst[i] = src[indices[i]]; index -1 writes a zero row. The embedding lookup.</summary>
    public void GatherRows(Tensor source, Tensor indices, Tensor destination)
    {
        RequireFloat(source, nameof(GatherRows)); RequireFloat(destination, nameof(GatherRows));
        RequireInt(indices, nameof(GatherRows));
        RequireSame(source.Shape.Columns, destination.Shape.Columns, "row length", nameof(GatherRows));
        RequireSame(indices.ElementCount, destination.Shape.Rows, "row count", nameof(GatherRows));
        GatherRowsCore(source, indices, destination);
    }

    /// <summary>dst[indices[i]] = src[i]; index -1 skips the row. Writes into a KV cache.</summary>
    public void ScatterRows(Tensor source, Tensor indices, Tensor destination)
    {
        RequireFloat(source, nameof(ScatterRows)); RequireFloat(destination, nameof(ScatterRows));
        RequireInt(indices, nameof(ScatterRows));
        RequireSame(source.Shape.Columns, destination.Shape.Columns, "row length", nameof(ScatterRows));
        RequireSame(indices.ElementCount, source.Shape.Rows, "row count", nameof(ScatterRows));
        ScatterRowsCore(source, indices, destination);
    }

    /// <summary>y = x / rms(x) * weight per row; optionally saves 1/rms per row for the backward.</summary>
    public void RmsNorm(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms = null)
    {
        RequireFloat(input, nameof(RmsNorm)); RequireFloat(weight, nameof(RmsNorm)); RequireFloat(output, nameof(RmsNorm));
        RequireSameShape(input, output, nameof(RmsNorm));
        RequireSame(weight.ElementCount, input.Shape.Columns, "weight length", nameof(RmsNorm));
        if (inverseRms is not null) RequireSame(inverseRms.ElementCount, input.Shape.Rows, "inverse-rms length", nameof(RmsNorm));
        if (!(epsilon >= 0)) throw new ArgumentException($"{nameof(RmsNorm)}: epsilon must be non-negative, got {epsilon}");
        RmsNormCore(input, weight, epsilon, output, inverseRms);
    }

    /// <summary>C = op(A)·op(B) (or C += … when <paramref name="accumulate"/>), op = transpose when asked.</summary>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool transposeA = false, bool transposeB = false, bool accumulate = false)
    {
        RequireFloat(a, nameof(MatMul)); RequireFloat(b, nameof(MatMul)); RequireFloat(c, nameof(MatMul));
        var (m, k) = transposeA ? (a.Shape.Columns, a.Shape.Rows) : (a.Shape.Rows, (long)a.Shape.Columns);
        var (kb, n) = transposeB ? (b.Shape.Columns, b.Shape.Rows) : (b.Shape.Rows, (long)b.Shape.Columns);
        if (k != kb)
            throw new ArgumentException($"{nameof(MatMul)}: inner dimensions differ: op(A) is {m}×{k} (A {a.Shape}), op(B) is {kb}×{n} (B {b.Shape})");
        if (c.Shape.Rows != m || c.Shape.Columns != n)
            throw new ArgumentException($"{nameof(MatMul)}: output {c.Shape} is not {m}×{n}");
        MatMulCore(a, b, c, checked((int)m), checked((int)n), checked((int)k), transposeA, transposeB, accumulate);
    }

    /// <summary>
    /// Rotary embedding in place, rotate-half pairing (dimension d with d + headDim/2), angle
    /// position · theta^(-2d/headDim). <paramref name="x"/> is [tokens, heads·headDim], positions [tokens].
    /// </summary>
    public void Rope(Tensor x, Tensor positions, int headDim, double theta)
    {
        RequireFloat(x, nameof(Rope)); RequireInt(positions, nameof(Rope));
        if (headDim <= 0 || headDim % 2 != 0 || x.Shape.Columns % headDim != 0)
            throw new ArgumentException($"{nameof(Rope)}: head dim {headDim} must be even and divide the row length {x.Shape.Columns}");
        RequireSame(positions.ElementCount, x.Shape.Rows, "position count", nameof(Rope));
        RopeCore(x, positions, headDim, theta);
    }

    /// <summary>
    /// Softmax attention, streamed over key blocks. q [B, Sq, Hq·D], k and v [B, Sk, Hkv·D],
    /// queryPositions [B, Sq], keyPositions [B, Sk] (-1 marks an empty slot), output [B, Sq, Hq·D],
    /// and optionally the log-sum-exp of the scaled scores per query, [B, Hq, Sq], for the backward.
    /// A query that sees no key gets a zero output and a log-sum-exp of -inf.
    /// </summary>
    public void Attention(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec,
        Tensor output, Tensor? logSumExp = null)
    {
        spec.Validate();
        foreach (var t in new[] { q, k, v, output }) RequireFloat(t, nameof(Attention));
        RequireInt(queryPositions, nameof(Attention)); RequireInt(keyPositions, nameof(Attention));
        if (queryPositions.Shape.Rank != 2 || keyPositions.Shape.Rank != 2)
            throw new ArgumentException($"{nameof(Attention)}: positions must be [batch, length], got {queryPositions.Shape} and {keyPositions.Shape}");
        int batch = queryPositions.Shape[0], queryLength = queryPositions.Shape[1], keyLength = keyPositions.Shape[1];
        RequireSame(keyPositions.Shape[0], batch, "batch of key positions", nameof(Attention));
        RequireSame(q.ElementCount, (long)batch * queryLength * spec.QueryHeads * spec.HeadDim, "query elements", nameof(Attention));
        RequireSame(k.ElementCount, (long)batch * keyLength * spec.KvHeads * spec.HeadDim, "key elements", nameof(Attention));
        RequireSameShape(k, v, nameof(Attention));
        RequireSameShape(q, output, nameof(Attention));
        if (logSumExp is not null)
            RequireSame(logSumExp.ElementCount, (long)batch * spec.QueryHeads * queryLength, "log-sum-exp elements", nameof(Attention));
        AttentionCore(q, k, v, queryPositions, keyPositions, spec, batch, queryLength, keyLength, output, logSumExp);
    }

    /// <summary>output = silu(gate) · up, elementwise.</summary>
    public void SwiGlu(Tensor gate, Tensor up, Tensor output)
    {
        RequireFloat(gate, nameof(SwiGlu)); RequireFloat(up, nameof(SwiGlu)); RequireFloat(output, nameof(SwiGlu));
        RequireSameShape(gate, up, nameof(SwiGlu));
        RequireSameShape(gate, output, nameof(SwiGlu));
        SwiGluCore(gate, up, output);
    }

    /// <summary>output = a + b, elementwise; output may be a or b (the residual stream updates in place).</summary>
    public void Add(Tensor a, Tensor b, Tensor output)
    {
        RequireFloat(a, nameof(Add)); RequireFloat(b, nameof(Add)); RequireFloat(output, nameof(Add));
        RequireSameShape(a, b, nameof(Add));
        RequireSameShape(a, output, nameof(Add));
        AddCore(a, b, output);
    }

    protected abstract void GatherRowsCore(Tensor source, Tensor indices, Tensor destination);
    protected abstract void ScatterRowsCore(Tensor source, Tensor indices, Tensor destination);
    protected abstract void RmsNormCore(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms);
    protected abstract void MatMulCore(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate);
    protected abstract void RopeCore(Tensor x, Tensor positions, int headDim, double theta);
    protected abstract void AttentionCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec,
        int batch, int queryLength, int keyLength, Tensor output, Tensor? logSumExp);
    protected abstract void SwiGluCore(Tensor gate, Tensor up, Tensor output);
    protected abstract void AddCore(Tensor a, Tensor b, Tensor output);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    // ---- checks shared by every backend -------------------------------------------------------

    private void RequireFloat(Tensor t, string op)
    {
        if (t.DType != FloatType)
            throw new ArgumentException($"{op}: backend '{Name}' computes in {FloatType}, got a {t.DType} tensor {t.Shape}");
        RequireOwn(t, op);
    }

    private void RequireInt(Tensor t, string op)
    {
        if (t.DType != DType.I32) throw new ArgumentException($"{op}: expected an I32 tensor, got {t.DType} {t.Shape}");
        RequireOwn(t, op);
    }

    private void RequireOwn(Tensor t, string op)
    {
        if (!ReferenceEquals(t.Backend, this))
            throw new ArgumentException($"{op}: tensor {t.Shape} belongs to backend '{t.Backend.Name}', not '{Name}'");
    }

    private static void RequireSameShape(Tensor a, Tensor b, string op)
    {
        if (!a.Shape.Equals(b.Shape)) throw new ArgumentException($"{op}: shapes differ: {a.Shape} and {b.Shape}");
    }

    private static void RequireSame(long actual, long expected, string what, string op)
    {
        if (actual != expected) throw new ArgumentException($"{op}: {what} is {actual}, expected {expected}");
    }
}
