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

    /// <summary>When set, every op's time is recorded under its name (MatMul by transpose case).</summary>
    public OpProfile? Profile { get; set; }

    private OpProfile.Scope Time(string op) => new(Profile, op);

    // ---- memory -------------------------------------------------------------------------------

    /// <summary>The memory this backend's tensors live in, in bytes, where it is known: a bound for planning a step's activations.</summary>
    public virtual long? MemoryBytes => null;

    /// <summary>What a device backend has asked of its device so far (null where there is no device to count).</summary>
    public virtual DeviceCounts? Counts => null;

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

    /// <summary>The values of several tensors read together: on a device that gathers them, one wait for all.</summary>
    public double[][] ToDoubles(IReadOnlyList<Tensor> tensors) => ToDoublesCore(tensors);

    /// <summary>Without a gathered read: one download per tensor.</summary>
    protected virtual double[][] ToDoublesCore(IReadOnlyList<Tensor> tensors) => tensors.Select(ToDoubles).ToArray();

    public int[] ToInts(Tensor t)
    {
        var values = new int[t.ElementCount];
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
        using var _ = Time("GatherRows");
        GatherRowsCore(source, indices, destination);
    }

    /// <summary>dst[indices[i]] = src[i]; index -1 skips the row. Writes into a KV cache.</summary>
    public void ScatterRows(Tensor source, Tensor indices, Tensor destination)
    {
        RequireFloat(source, nameof(ScatterRows)); RequireFloat(destination, nameof(ScatterRows));
        RequireInt(indices, nameof(ScatterRows));
        RequireSame(source.Shape.Columns, destination.Shape.Columns, "row length", nameof(ScatterRows));
        RequireSame(indices.ElementCount, source.Shape.Rows, "row count", nameof(ScatterRows));
        using var _ = Time("ScatterRows");
        ScatterRowsCore(source, indices, destination);
    }

    /// <summary>y = x / rms(x) * weight per row; optionally saves 1/rms per row for the backward.</summary>
    public void RmsNorm(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms = null)
    {
        CheckRmsNorm(input, weight, epsilon, output, inverseRms, nameof(RmsNorm));
        using var _ = Time("RmsNorm");
        RmsNormCore(input, weight, epsilon, output, inverseRms);
    }

    /// <summary>
    /// The residual add fused with the RMSNorm after it, one pass over the rows: sum = a + b (the residual stream;
    /// <paramref name="sum"/> may be <paramref name="a"/>), then output = <see cref="RmsNorm"/>(sum).
    /// </summary>
    public void AddRmsNorm(Tensor a, Tensor b, Tensor weight, float epsilon, Tensor sum, Tensor output, Tensor? inverseRms = null)
    {
        RequireFloat(a, nameof(AddRmsNorm)); RequireFloat(b, nameof(AddRmsNorm)); RequireFloat(sum, nameof(AddRmsNorm));
        RequireSameShape(a, b, nameof(AddRmsNorm));
        RequireSameShape(a, sum, nameof(AddRmsNorm));
        CheckRmsNorm(sum, weight, epsilon, output, inverseRms, nameof(AddRmsNorm));
        using var _ = Time("AddRmsNorm");
        AddRmsNormCore(a, b, weight, epsilon, sum, output, inverseRms);
    }

    /// <summary>C = op(A)·op(B) (or C += … when <paramref name="accumulate"/>), op = transpose when asked.</summary>
    public void MatMul(Tensor a, Tensor b, Tensor c, bool transposeA = false, bool transposeB = false, bool accumulate = false)
    {
        var (m, n, k) = CheckProduct(a, b, c, transposeA, transposeB, nameof(MatMul));
        using var _ = Time(transposeA ? transposeB ? "MatMul TT" : "MatMul TN" : transposeB ? "MatMul NT" : "MatMul NN");
        MatMulCore(a, b, c, m, n, k, transposeA, transposeB, accumulate);
    }

    /// <summary>
    /// A projection whose output only an attention of <paramref name="spec"/> and <paramref name="layout"/> reads before
    /// it is next written (v without a KV cache): output = input·weightᵀ, as <see cref="MatMul"/>. Stated so that a
    /// backend whose attention reads a narrower type may store the output in that type alone (cuda-bf16 before flash
    /// attention).
    /// </summary>
    public void AttentionProjection(Tensor input, Tensor weight, Tensor output, AttentionSpec spec, AttentionLayout layout)
    {
        var (m, n, k) = CheckProduct(input, weight, output, transposeA: false, transposeB: true, nameof(AttentionProjection));
        using var _ = Time("MatMul NT");
        AttentionProjectionCore(input, weight, output, m, n, k, spec, layout);
    }

    /// <summary>
    /// Rotary embedding in place, rotate-half pairing (dimension d with d + headDim/2), angle
    /// position · theta^(-2d/headDim). <paramref name="x"/> is [tokens, heads·headDim], positions [tokens].
    /// With <paramref name="inverse"/> it rotates by minus the angle: the backward, applied to a gradient.
    /// </summary>
    public void Rope(Tensor x, Tensor positions, int headDim, double theta, bool inverse = false)
    {
        CheckRope(x, positions, headDim, nameof(Rope));
        using var _ = Time("Rope");
        RopeCore(x, positions, headDim, theta, inverse);
    }

    /// <summary>
    /// <see cref="Rope"/> of q or k that only an attention of <paramref name="spec"/> and <paramref name="layout"/> reads
    /// afterwards, before it is next written: a backend whose attention reads a narrower type may store the rotated values
    /// in it alone (cuda-bf16 before flash attention: rotated in float32, rounded once).
    /// </summary>
    public void RopeForAttention(Tensor x, Tensor positions, int headDim, double theta, AttentionSpec spec, AttentionLayout layout)
    {
        CheckRope(x, positions, headDim, nameof(RopeForAttention));
        using var _ = Time("Rope");
        RopeForAttentionCore(x, positions, headDim, theta, spec, layout);
    }

    /// <summary>
    /// Softmax attention, streamed over key blocks. q [B, Sq, Hq·D], k and v [B, Sk, Hkv·D],
    /// queryPositions [B, Sq], keyPositions [B, Sk] (-1 marks an empty slot), output [B, Sq, Hq·D],
    /// and optionally the log-sum-exp of the scaled scores per query, [B, Hq, Sq], for the backward.
    /// A query that sees no key gets a zero output and a log-sum-exp of -inf. <paramref name="layout"/> states what the
    /// caller knows of the positions (<see cref="AttentionLayout"/>).
    /// </summary>
    public void Attention(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec,
        Tensor output, Tensor? logSumExp = null, AttentionLayout layout = AttentionLayout.Explicit)
    {
        var (batch, queryLength, keyLength) = CheckAttention(q, k, v, queryPositions, keyPositions, spec, layout, output, logSumExp, nameof(Attention));
        using var _ = Time("Attention");
        AttentionCore(q, k, v, queryPositions, keyPositions, spec, layout, batch, queryLength, keyLength, output, logSumExp);
    }

    /// <summary>output = silu(gate) · up, elementwise.</summary>
    public void SwiGlu(Tensor gate, Tensor up, Tensor output)
    {
        RequireFloat(gate, nameof(SwiGlu)); RequireFloat(up, nameof(SwiGlu)); RequireFloat(output, nameof(SwiGlu));
        RequireSameShape(gate, up, nameof(SwiGlu));
        RequireSameShape(gate, output, nameof(SwiGlu));
        using var _ = Time("SwiGlu");
        SwiGluCore(gate, up, output);
    }

    /// <summary>output = a + b, elementwise; output may be a or b (the residual stream updates in place).</summary>
    public void Add(Tensor a, Tensor b, Tensor output)
    {
        RequireFloat(a, nameof(Add)); RequireFloat(b, nameof(Add)); RequireFloat(output, nameof(Add));
        RequireSameShape(a, b, nameof(Add));
        RequireSameShape(a, output, nameof(Add));
        using var _ = Time("Add");
        AddCore(a, b, output);
    }

    // ---- backward: every gradient output is accumulated into (+=), never overwritten ----------

    /// <summary>Sets every element to zero.</summary>
    public void Zero(Tensor t)
    {
        RequireOwn(t, nameof(Zero));
        using var _ = Time("Zero");
        ZeroCore(t);
    }

    /// <summary>dst[indices[i]] += src[i]; index -1 skips the row. The embedding backward.</summary>
    public void ScatterAddRows(Tensor source, Tensor indices, Tensor destination)
    {
        RequireFloat(source, nameof(ScatterAddRows)); RequireFloat(destination, nameof(ScatterAddRows));
        RequireInt(indices, nameof(ScatterAddRows));
        RequireSame(source.Shape.Columns, destination.Shape.Columns, "row length", nameof(ScatterAddRows));
        RequireSame(indices.ElementCount, source.Shape.Rows, "row count", nameof(ScatterAddRows));
        using var _ = Time("ScatterAddRows");
        ScatterAddRowsCore(source, indices, destination);
    }

    /// <summary>
    /// Backward of <see cref="RmsNorm"/> from the saved 1/rms: accumulates dx, and dweight (summed over rows)
    /// unless the weight is frozen (<paramref name="weightGrad"/> null).
    /// </summary>
    public void RmsNormBackward(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor? weightGrad)
    {
        foreach (var t in new[] { input, weight, inverseRms, outputGrad, inputGrad }) RequireFloat(t, nameof(RmsNormBackward));
        RequireSameShape(input, outputGrad, nameof(RmsNormBackward));
        RequireSameShape(input, inputGrad, nameof(RmsNormBackward));
        if (weightGrad is not null)
        {
            RequireFloat(weightGrad, nameof(RmsNormBackward));
            RequireSameShape(weight, weightGrad, nameof(RmsNormBackward));
        }
        RequireSame(weight.ElementCount, input.Shape.Columns, "weight length", nameof(RmsNormBackward));
        RequireSame(inverseRms.ElementCount, input.Shape.Rows, "inverse-rms length", nameof(RmsNormBackward));
        using var _ = Time("RmsNormBackward");
        RmsNormBackwardCore(input, weight, inverseRms, outputGrad, inputGrad, weightGrad);
    }

    /// <summary>
    /// Backward of <see cref="Attention"/>, recomputing the probabilities from the saved log-sum-exp
    /// (nothing of size S×S was stored). Accumulates dq, dk, dv; a kv head's gradient sums its query heads.
    /// </summary>
    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec,
        Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad,
        AttentionLayout layout = AttentionLayout.Explicit)
    {
        var (batch, queryLength, keyLength) = CheckAttention(q, k, v, queryPositions, keyPositions, spec, layout, output, logSumExp, nameof(AttentionBackward));
        RequireSameShape(output, outputGrad, nameof(AttentionBackward));
        RequireSameShape(q, queryGrad, nameof(AttentionBackward));
        RequireSameShape(k, keyGrad, nameof(AttentionBackward));
        RequireSameShape(v, valueGrad, nameof(AttentionBackward));
        foreach (var t in new[] { outputGrad, queryGrad, keyGrad, valueGrad }) RequireFloat(t, nameof(AttentionBackward));
        using var _ = Time("AttentionBackward");
        AttentionBackwardCore(q, k, v, queryPositions, keyPositions, spec, layout, batch, queryLength, keyLength, output, logSumExp,
            outputGrad, queryGrad, keyGrad, valueGrad);
    }

    /// <summary>Backward of <see cref="SwiGlu"/>: accumulates d(gate) and d(up).</summary>
    public void SwiGluBackward(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad)
    {
        foreach (var t in new[] { gate, up, outputGrad, gateGrad, upGrad })
        {
            RequireFloat(t, nameof(SwiGluBackward));
            RequireSameShape(gate, t, nameof(SwiGluBackward));
        }
        using var _ = Time("SwiGluBackward");
        SwiGluBackwardCore(gate, up, outputGrad, gateGrad, upGrad);
    }

    /// <summary>
    /// Per row of logits [N, V]: the log-probability of the target token (0 where the target is -1, a
    /// masked position), the log-sum-exp (saved for the backward), and optionally the entropy of the
    /// softmax. Cross-entropy is minus the log-probability.
    /// </summary>
    public void TokenLogProbs(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy = null)
    {
        CheckLogProbs(logits, targets, logProbs, logSumExp, entropy, nameof(TokenLogProbs));
        using var _ = Time("TokenLogProbs");
        TokenLogProbsCore(logits, targets, logProbs, logSumExp, entropy);
    }

    /// <summary>
    /// Backward of <see cref="TokenLogProbs"/>: accumulates into d(logits) the gradient of
    /// Σ logProbGrad·logProb (+ Σ entropyGrad·entropy when given). Masked rows get no log-prob gradient.
    /// </summary>
    public void TokenLogProbsBackward(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad)
    {
        CheckLogProbs(logits, targets, logProbGrad, logSumExp, entropy, nameof(TokenLogProbsBackward));
        if ((entropy is null) != (entropyGrad is null))
            throw new ArgumentException($"{nameof(TokenLogProbsBackward)}: give both the entropy and its gradient, or neither");
        if (entropyGrad is not null) RequireSameShape(logProbGrad, entropyGrad, nameof(TokenLogProbsBackward));
        RequireFloat(logitsGrad, nameof(TokenLogProbsBackward));
        RequireSameShape(logits, logitsGrad, nameof(TokenLogProbsBackward));
        using var _ = Time("TokenLogProbsBackward");
        TokenLogProbsBackwardCore(logits, targets, logSumExp, logProbGrad, entropy, entropyGrad, logitsGrad);
    }

    /// <summary>
    /// One fused AdamW update of a parameter from its gradient (scaled by <see cref="AdamWStep.GradientScale"/>,
    /// which carries clipping and micro-batch averaging) with decoupled weight decay and bias correction.
    /// </summary>
    public void AdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step)
    {
        CheckAdamW(parameter, gradient, firstMoment, secondMoment);
        step.Validate();
        using var _ = Time("AdamW");
        AdamWCore(parameter, gradient, firstMoment, secondMoment, step);
    }

    /// <summary>
    /// AdamW on many parameters at once, weight decay only where <see cref="AdamWParameter.Decays"/>: the optimizer's
    /// step. A backend with a multi-tensor kernel updates them all in one launch.
    /// </summary>
    public void AdamW(IReadOnlyList<AdamWParameter> parameters, AdamWStep step)
    {
        foreach (var p in parameters) CheckAdamW(p.Parameter, p.Gradient, p.FirstMoment, p.SecondMoment);
        step.Validate();
        using var _ = Time("AdamW");
        AdamWCore(parameters, step);
    }

    /// <summary>Σ x², accumulated in float64: the building block of the global gradient norm.</summary>
    public double SumOfSquares(Tensor t)
    {
        RequireFloat(t, nameof(SumOfSquares));
        using var _ = Time("SumOfSquares");
        return SumOfSquaresCore(t);
    }

    /// <summary>Σ x² over all the tensors, in float64: the global gradient norm's sum, with one wait on a device.</summary>
    public double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        foreach (var t in tensors) RequireFloat(t, nameof(SumOfSquares));
        using var _ = Time("SumOfSquares");
        return SumOfSquaresCore(tensors);
    }

    /// <summary>
    /// The optimizer's AdamW guarded by values left on the device (<see cref="AdamWGuard"/>): no update unless the loss and
    /// the gradient norm are finite, the gradient clipped to the maximum norm. The host need not wait for either.
    /// </summary>
    public void AdamW(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWGuard guard)
    {
        foreach (var p in parameters) CheckAdamW(p.Parameter, p.Gradient, p.FirstMoment, p.SecondMoment);
        step.Validate();
        guard.Validate();
        RequireFloat(guard.Loss, nameof(AdamW)); RequireFloat(guard.GradientNorm, nameof(AdamW));
        using var _ = Time("AdamW");
        AdamWCore(parameters, step, guard);
    }

    /// <summary>Sets every element to <paramref name="value"/>, rounded to the tensor's type: a constant gradient seed, say.</summary>
    public void Fill(Tensor t, double value)
    {
        RequireFloat(t, nameof(Fill));
        using var _ = Time("Fill");
        FillCore(t, value);
    }

    /// <summary>
    /// total += scale · Σ values, the sum taken in float64; <paramref name="total"/> has one element. A step's loss summed
    /// over its micro-batches where the values are, to be read once at the end of the step.
    /// </summary>
    public void AccumulateSum(Tensor values, double scale, Tensor total)
    {
        RequireFloat(values, nameof(AccumulateSum)); RequireFloat(total, nameof(AccumulateSum));
        RequireSame(total.ElementCount, 1, "total length", nameof(AccumulateSum));
        if (!double.IsFinite(scale)) throw new ArgumentException($"{nameof(AccumulateSum)}: the scale must be finite, got {scale}");
        using var _ = Time("AccumulateSum");
        AccumulateSumCore(values, scale, total);
    }

    /// <summary>
    /// The reward model's Bradley–Terry loss where its scores are (<see cref="BradleyTerryStatistics"/>): for P pairs,
    /// <paramref name="scores"/> holds the P chosen then the P rejected scores and <paramref name="margins"/> one margin
    /// each; <paramref name="centering"/> (≥ 0) weighs the pull of each pair's score sum to zero; <paramref name="scoreGradient"/> (2P) is written with the gradient of the summed loss divided by
    /// <paramref name="gradientPairs"/> (the whole batch's pairs: a rank's or a micro-batch's share accumulates the batch
    /// mean's gradient); the summed loss is added to <paramref name="lossSum"/> (one element) and the step's sums to
    /// <paramref name="statistics"/> (<see cref="BradleyTerryStatistics.Count"/> elements). Nothing is read back.
    /// </summary>
    public void BradleyTerry(Tensor scores, Tensor margins, double centering, double gradientPairs, Tensor scoreGradient, Tensor lossSum, Tensor statistics)
    {
        foreach (var t in new[] { scores, margins, scoreGradient }) RequireFloat(t, nameof(BradleyTerry));
        long pairs = margins.ElementCount;
        if (pairs < 1) throw new ArgumentException($"{nameof(BradleyTerry)}: needs at least one pair");
        RequireSame(scores.ElementCount, 2 * pairs, "score count (chosen and rejected per margin)", nameof(BradleyTerry));
        RequireSame(scoreGradient.ElementCount, 2 * pairs, "score gradient length", nameof(BradleyTerry));
        RequireTotals(lossSum, statistics, BradleyTerryStatistics.Count, nameof(BradleyTerry));
        if (!(gradientPairs >= pairs) || !double.IsFinite(gradientPairs))
            throw new ArgumentException($"{nameof(BradleyTerry)}: the gradient divides by the whole batch's pairs, at least these {pairs}; got {gradientPairs}");
        if (!(centering >= 0) || !double.IsFinite(centering))
            throw new ArgumentException($"{nameof(BradleyTerry)}: the centering coefficient must be finite and ≥ 0, got {centering}");
        using var _ = Time("BradleyTerry");
        BradleyTerryCore(scores, margins, centering, gradientPairs, scoreGradient, lossSum, statistics);
    }

    /// <summary>
    /// PPO's clipped surrogate with its entropy bonus where the actor's log-probabilities are (<see cref="PpoLosses.Policy"/>):
    /// one value per row in every float input, the rows whose <paramref name="targets"/> entry is −1 skipped; both
    /// gradients written (0 on skipped rows), the summed loss added to <paramref name="lossSum"/> and the update's sums to
    /// <paramref name="statistics"/> (<see cref="PpoLosses.PolicyStatistics"/> elements). Nothing is read back.
    /// </summary>
    public void PpoPolicyLoss(Tensor logProbs, Tensor entropy, Tensor oldLogProbs, Tensor advantages, Tensor targets, PpoLossSettings settings,
        Tensor logProbGradient, Tensor entropyGradient, Tensor lossSum, Tensor statistics)
    {
        const string op = nameof(PpoPolicyLoss);
        RequirePerRow(targets, op, logProbs, entropy, oldLogProbs, advantages, logProbGradient, entropyGradient);
        RequireTotals(lossSum, statistics, PpoLosses.PolicyStatistics, op);
        settings.Validate(op);
        using var _ = Time(op);
        PpoPolicyLossCore(logProbs, entropy, oldLogProbs, advantages, targets, settings, logProbGradient, entropyGradient, lossSum, statistics);
    }

    /// <summary>
    /// PPO's clipped value loss where the critic's values are (<see cref="PpoLosses.Value"/>), laid out as
    /// <see cref="PpoPolicyLoss"/>; <paramref name="statistics"/> has <see cref="PpoLosses.ValueStatistics"/> elements.
    /// </summary>
    public void PpoValueLoss(Tensor values, Tensor oldValues, Tensor returns, Tensor targets, PpoLossSettings settings, Tensor valueGradient,
        Tensor lossSum, Tensor statistics)
    {
        const string op = nameof(PpoValueLoss);
        RequirePerRow(targets, op, values, oldValues, returns, valueGradient);
        RequireTotals(lossSum, statistics, PpoLosses.ValueStatistics, op);
        settings.Validate(op);
        using var _ = Time(op);
        PpoValueLossCore(values, oldValues, returns, targets, settings, valueGradient, lossSum, statistics);
    }

    /// <summary>norm = √(Σ x² over all the tensors), summed in float64, written into the one element of <paramref name="norm"/>: the global gradient norm, left on the device.</summary>
    public void GlobalNorm(IReadOnlyList<Tensor> tensors, Tensor norm)
    {
        foreach (var t in tensors) RequireFloat(t, nameof(GlobalNorm));
        RequireFloat(norm, nameof(GlobalNorm));
        RequireSame(norm.ElementCount, 1, "norm length", nameof(GlobalNorm));
        using var _ = Time("GlobalNorm");
        GlobalNormCore(tensors, norm);
    }

    protected abstract void GatherRowsCore(Tensor source, Tensor indices, Tensor destination);
    protected abstract void ScatterRowsCore(Tensor source, Tensor indices, Tensor destination);
    protected abstract void RmsNormCore(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms);
    protected abstract void AddRmsNormCore(Tensor a, Tensor b, Tensor weight, float epsilon, Tensor sum, Tensor output, Tensor? inverseRms);
    protected abstract void MatMulCore(Tensor a, Tensor b, Tensor c, int m, int n, int k, bool transposeA, bool transposeB, bool accumulate);

    /// <summary>The rotation of <see cref="RopeForAttention"/>; by default RoPE in place in the float type every op reads.</summary>
    protected virtual void RopeForAttentionCore(Tensor x, Tensor positions, int headDim, double theta, AttentionSpec spec, AttentionLayout layout) =>
        RopeCore(x, positions, headDim, theta, inverse: false);

    /// <summary>The product of <see cref="AttentionProjection"/>; by default the float product every op reads.</summary>
    protected virtual void AttentionProjectionCore(Tensor input, Tensor weight, Tensor output, int m, int n, int k, AttentionSpec spec,
        AttentionLayout layout) => MatMulCore(input, weight, output, m, n, k, transposeA: false, transposeB: true, accumulate: false);
    protected abstract void RopeCore(Tensor x, Tensor positions, int headDim, double theta, bool inverse);
    protected abstract void AttentionCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor? logSumExp);
    protected abstract void SwiGluCore(Tensor gate, Tensor up, Tensor output);
    protected abstract void AddCore(Tensor a, Tensor b, Tensor output);
    protected abstract void ZeroCore(Tensor t);
    protected abstract void ScatterAddRowsCore(Tensor source, Tensor indices, Tensor destination);
    protected abstract void RmsNormBackwardCore(Tensor input, Tensor weight, Tensor inverseRms, Tensor outputGrad, Tensor inputGrad, Tensor? weightGrad);
    protected abstract void AttentionBackwardCore(Tensor q, Tensor k, Tensor v, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec, AttentionLayout layout,
        int batch, int queryLength, int keyLength, Tensor output, Tensor logSumExp, Tensor outputGrad, Tensor queryGrad, Tensor keyGrad, Tensor valueGrad);
    protected abstract void SwiGluBackwardCore(Tensor gate, Tensor up, Tensor outputGrad, Tensor gateGrad, Tensor upGrad);
    protected abstract void TokenLogProbsCore(Tensor logits, Tensor targets, Tensor logProbs, Tensor logSumExp, Tensor? entropy);
    protected abstract void TokenLogProbsBackwardCore(Tensor logits, Tensor targets, Tensor logSumExp, Tensor logProbGrad,
        Tensor? entropy, Tensor? entropyGrad, Tensor logitsGrad);
    protected abstract void AdamWCore(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamWStep step);
    protected abstract double SumOfSquaresCore(Tensor t);

    /// <summary>Without a multi-tensor kernel: one update per parameter.</summary>
    protected virtual void AdamWCore(IReadOnlyList<AdamWParameter> parameters, AdamWStep step)
    {
        foreach (var p in parameters)
            AdamWCore(p.Parameter, p.Gradient, p.FirstMoment, p.SecondMoment, p.Decays ? step : step with { WeightDecay = 0 });
    }

    /// <summary>Without a multi-tensor reduction: one sum per tensor.</summary>
    protected virtual double SumOfSquaresCore(IReadOnlyList<Tensor> tensors) => tensors.Sum(SumOfSquaresCore);

    /// <summary>Without a guarded kernel: the guard's two values are read (a wait on a device) and decide on the host.</summary>
    protected virtual void AdamWCore(IReadOnlyList<AdamWParameter> parameters, AdamWStep step, AdamWGuard guard)
    {
        double loss = ToDoubles(guard.Loss)[0], norm = ToDoubles(guard.GradientNorm)[0];
        if (!AdamWGuard.Allows(loss, norm)) return;
        AdamWCore(parameters, step with { GradientScale = (float)(step.GradientScale * AdamWGuard.ClipScale(norm, guard.MaxGradientNorm)) });
    }

    /// <summary>Without a fill kernel: the values are uploaded.</summary>
    protected virtual void FillCore(Tensor t, double value)
    {
        var values = new double[t.ElementCount];
        Array.Fill(values, value);
        Upload(values, t);
    }

    /// <summary>Without a device reduction: both are read (a wait on a device), added on the host and written back.</summary>
    protected virtual void AccumulateSumCore(Tensor values, double scale, Tensor total)
    {
        double sum = 0;
        foreach (double v in ToDoubles(values)) sum += v;
        FillCore(total, ToDoubles(total)[0] + scale * sum);
    }

    /// <summary>Without a kernel: the scores are read (a wait on a device) and the loss computed on the host.</summary>
    protected virtual void BradleyTerryCore(Tensor scores, Tensor margins, double centering, double gradientPairs, Tensor scoreGradient, Tensor lossSum,
        Tensor statistics)
    {
        var (loss, gradient, sums) = BradleyTerryStatistics.Compute(ToDoubles(scores), ToDoubles(margins), centering, gradientPairs);
        Upload(gradient, scoreGradient);
        AddToTotals(lossSum, loss, statistics, sums);
    }

    /// <summary>Without a kernel: the inputs are read (a wait on a device) and the loss computed on the host.</summary>
    protected virtual void PpoPolicyLossCore(Tensor logProbs, Tensor entropy, Tensor oldLogProbs, Tensor advantages, Tensor targets, PpoLossSettings settings,
        Tensor logProbGradient, Tensor entropyGradient, Tensor lossSum, Tensor statistics)
    {
        var (loss, logProbGrad, entropyGrad, sums) = PpoLosses.Policy(ToDoubles(logProbs), ToDoubles(entropy), ToDoubles(oldLogProbs), ToDoubles(advantages),
            ToInts(targets), settings);
        Upload(logProbGrad, logProbGradient);
        Upload(entropyGrad, entropyGradient);
        AddToTotals(lossSum, loss, statistics, sums);
    }

    /// <summary>Without a kernel: the inputs are read (a wait on a device) and the loss computed on the host.</summary>
    protected virtual void PpoValueLossCore(Tensor values, Tensor oldValues, Tensor returns, Tensor targets, PpoLossSettings settings, Tensor valueGradient,
        Tensor lossSum, Tensor statistics)
    {
        var (loss, gradient, sums) = PpoLosses.Value(ToDoubles(values), ToDoubles(oldValues), ToDoubles(returns), ToInts(targets), settings);
        Upload(gradient, valueGradient);
        AddToTotals(lossSum, loss, statistics, sums);
    }

    /// <summary>lossSum += loss and statistics += sums, element by element, through the host.</summary>
    private void AddToTotals(Tensor lossSum, double loss, Tensor statistics, double[] sums)
    {
        FillCore(lossSum, ToDoubles(lossSum)[0] + loss);
        var accumulated = ToDoubles(statistics);
        for (int i = 0; i < accumulated.Length; i++) accumulated[i] += sums[i];
        Upload(accumulated, statistics);
    }

    /// <summary>Without a device reduction: the sum of squares is read (a wait on a device) and its root written back.</summary>
    protected virtual void GlobalNormCore(IReadOnlyList<Tensor> tensors, Tensor norm) => FillCore(norm, Math.Sqrt(SumOfSquaresCore(tensors)));

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

    private void CheckAdamW(Tensor parameter, Tensor gradient, Tensor firstMoment, Tensor secondMoment)
    {
        foreach (var t in new[] { parameter, gradient, firstMoment, secondMoment })
        {
            RequireFloat(t, nameof(AdamW));
            RequireSameShape(parameter, t, nameof(AdamW));
        }
    }

    private void CheckRmsNorm(Tensor input, Tensor weight, float epsilon, Tensor output, Tensor? inverseRms, string op)
    {
        RequireFloat(input, op); RequireFloat(weight, op); RequireFloat(output, op);
        RequireSameShape(input, output, op);
        RequireSame(weight.ElementCount, input.Shape.Columns, "weight length", op);
        if (inverseRms is not null)
        {
            RequireFloat(inverseRms, op);
            RequireSame(inverseRms.ElementCount, input.Shape.Rows, "inverse-rms length", op);
        }
        if (!(epsilon >= 0)) throw new ArgumentException($"{op}: epsilon must be non-negative, got {epsilon}");
    }

    private (int Batch, int QueryLength, int KeyLength) CheckAttention(Tensor q, Tensor k, Tensor v, Tensor queryPositions,
        Tensor keyPositions, AttentionSpec spec, AttentionLayout layout, Tensor output, Tensor? logSumExp, string op)
    {
        spec.Validate();
        foreach (var t in new[] { q, k, v, output }) RequireFloat(t, op);
        RequireInt(queryPositions, op); RequireInt(keyPositions, op);
        if (queryPositions.Shape.Rank != 2 || keyPositions.Shape.Rank != 2)
            throw new ArgumentException($"{op}: positions must be [batch, length], got {queryPositions.Shape} and {keyPositions.Shape}");
        int batch = queryPositions.Shape[0], queryLength = queryPositions.Shape[1], keyLength = keyPositions.Shape[1];
        RequireSame(keyPositions.Shape[0], batch, "batch of key positions", op);
        if (layout == AttentionLayout.Sequences && !(ReferenceEquals(queryPositions.Storage, keyPositions.Storage)
            && queryPositions.ElementOffset == keyPositions.ElementOffset && queryLength == keyLength))
            throw new ArgumentException($"{op}: the {AttentionLayout.Sequences} layout is self-attention: queries and keys take one position tensor");
        RequireSame(q.ElementCount, (long)batch * queryLength * spec.QueryHeads * spec.HeadDim, "query elements", op);
        RequireSame(k.ElementCount, (long)batch * keyLength * spec.KvHeads * spec.HeadDim, "key elements", op);
        RequireSameShape(k, v, op);
        RequireSameShape(q, output, op);
        if (logSumExp is not null)
        {
            RequireFloat(logSumExp, op);
            RequireSame(logSumExp.ElementCount, (long)batch * spec.QueryHeads * queryLength, "log-sum-exp elements", op);
        }
        return (batch, queryLength, keyLength);
    }

    private void CheckLogProbs(Tensor logits, Tensor targets, Tensor perRow, Tensor logSumExp, Tensor? entropy, string op)
    {
        RequireFloat(logits, op); RequireFloat(perRow, op); RequireFloat(logSumExp, op);
        RequireInt(targets, op);
        long rows = logits.Shape.Rows;
        RequireSame(targets.ElementCount, rows, "target count", op);
        RequireSame(perRow.ElementCount, rows, "per-row output length", op);
        RequireSame(logSumExp.ElementCount, rows, "log-sum-exp length", op);
        if (entropy is not null)
        {
            RequireFloat(entropy, op);
            RequireSame(entropy.ElementCount, rows, "entropy length", op);
        }
    }

    private static void RequireSameShape(Tensor a, Tensor b, string op)
    {
        if (!a.Shape.Equals(b.Shape)) throw new ArgumentException($"{op}: shapes differ: {a.Shape} and {b.Shape}");
    }

    /// <summary>One float value per row of <paramref name="targets"/> (I32) in every other tensor.</summary>
    private void RequirePerRow(Tensor targets, string op, params Tensor[] perRow)
    {
        RequireInt(targets, op);
        foreach (var t in perRow)
        {
            RequireFloat(t, op);
            RequireSame(t.ElementCount, targets.ElementCount, "values per row (one per target)", op);
        }
    }

    /// <summary>A one-element loss total and a statistics total of <paramref name="count"/> elements.</summary>
    private void RequireTotals(Tensor lossSum, Tensor statistics, int count, string op)
    {
        RequireFloat(lossSum, op); RequireFloat(statistics, op);
        RequireSame(lossSum.ElementCount, 1, "loss length", op);
        RequireSame(statistics.ElementCount, count, "statistics length", op);
    }

    private void CheckRope(Tensor x, Tensor positions, int headDim, string op)
    {
        RequireFloat(x, op); RequireInt(positions, op);
        if (headDim <= 0 || headDim % 2 != 0 || x.Shape.Columns % headDim != 0)
            throw new ArgumentException($"{op}: head dim {headDim} must be even and divide the row length {x.Shape.Columns}");
        RequireSame(positions.ElementCount, x.Shape.Rows, "position count", op);
    }

    /// <summary>The sides m, n, k of C = op(A)·op(B), after checking that the shapes agree.</summary>
    private (int M, int N, int K) CheckProduct(Tensor a, Tensor b, Tensor c, bool transposeA, bool transposeB, string op)
    {
        RequireFloat(a, op); RequireFloat(b, op); RequireFloat(c, op);
        var (m, k) = transposeA ? (a.Shape.Columns, a.Shape.Rows) : (a.Shape.Rows, (long)a.Shape.Columns);
        var (kb, n) = transposeB ? (b.Shape.Columns, b.Shape.Rows) : (b.Shape.Rows, (long)b.Shape.Columns);
        if (k != kb)
            throw new ArgumentException($"{op}: inner dimensions differ: op(A) is {m}×{k} (A {a.Shape}), op(B) is {kb}×{n} (B {b.Shape})");
        if (c.Shape.Rows != m || c.Shape.Columns != n)
            throw new ArgumentException($"{op}: output {c.Shape} is not {m}×{n}");
        return (checked((int)m), checked((int)n), checked((int)k));
    }

    private static void RequireSame(long actual, long expected, string what, string op)
    {
        if (actual != expected) throw new ArgumentException($"{op}: {what} is {actual}, expected {expected}");
    }
}
