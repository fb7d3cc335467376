using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops.Contract;

/// <summary>
/// Every backward kernel of a backend, AdamW, Zero and the gradient norm against the float64 reference, on fresh
/// random inputs at the ragged sizes each backend's tests pass in. Gradient outputs start from the same random
/// values on both sides, so a kernel that overwrites instead of accumulating fails. Tolerance: relative L2 error ≤ 1e-5.
/// </summary>
public sealed class BackwardOpChecks(BackendPair pair, Random random)
{
    private const double Fp32Tolerance = 1e-5;

    private (Tensor Tested, Tensor Reference) Random(float scale, params int[] dims) =>
        pair.Input(Numerics.RandomFloats(random, new Shape(dims).ElementCount, scale), dims);

    /// <param name="wholeLength">The length of a whole tensor zeroed after the view.</param>
    public void Zero_clears_float_and_int_tensors_and_only_the_rows_of_a_view(int wholeLength)
    {
        var tested = pair.Tested;
        var floats = tested.FromFloats(Numerics.RandomFloats(random, 3 * 1000), 3, 1000);
        var before = tested.ToFloats(floats);
        tested.Zero(floats.SliceRows(1, 1));
        var after = tested.ToFloats(floats);
        Assert.Equal(before.Take(1000), after.Take(1000));
        Assert.All(after.Skip(1000).Take(1000), value => Assert.Equal(0f, value));
        Assert.Equal(before.Skip(2000), after.Skip(2000));

        var whole = tested.FromFloats(Numerics.RandomFloats(random, wholeLength), wholeLength);
        tested.Zero(whole);
        Assert.All(tested.ToFloats(whole), value => Assert.Equal(0f, value));

        var ints = tested.FromInts([5, -1, 7], 3);
        tested.Zero(ints);
        var values = new int[3];
        tested.Download(ints, values);
        Assert.Equal([0, 0, 0], values);
    }

    public void SumOfSquares_matches_reference(int count)
    {
        var x = Random(3f, count);
        double tested = pair.Tested.SumOfSquares(x.Tested), expected = pair.Reference.SumOfSquares(x.Reference);
        Assert.True(Math.Abs(tested - expected) <= Fp32Tolerance * expected, $"sum of squares {tested} vs {expected}");
    }

    /// <param name="counts">The tensors' element counts: ragged, some spanning several blocks of a device reduction.</param>
    public void SumOfSquares_over_many_tensors_matches_reference(int[] counts)
    {
        var tensors = counts.Select(c => Random(3f, c)).ToList();
        double tested = pair.Tested.SumOfSquares(tensors.Select(t => t.Tested).ToList());
        double expected = tensors.Sum(t => pair.Reference.SumOfSquares(t.Reference));
        Assert.True(Math.Abs(tested - expected) <= Fp32Tolerance * expected, $"sum of squares of {counts.Length} tensors {tested} vs {expected}");
    }

    /// <summary>A constant written over poison, on a whole tensor and on a one-element view (a loss slot), leaving the rest.</summary>
    public void Fill_writes_the_value_and_only_into_the_view(int count)
    {
        var whole = pair.Output(count);
        pair.Tested.Fill(whole.Tested, -0.125);
        Assert.All(pair.Tested.ToFloats(whole.Tested), v => Assert.Equal(-0.125f, v));
        pair.Tested.Fill(whole.Tested.SliceRows(count - 1, 1), double.NaN);
        var values = pair.Tested.ToFloats(whole.Tested);
        Assert.True(float.IsNaN(values[^1]), "the view was not filled");
        Assert.All(values[..^1], v => Assert.Equal(-0.125f, v));
    }

    /// <summary>A loss accumulated over two micro-batches with different scales into a one-element total that starts non-zero.</summary>
    public void AccumulateSum_matches_reference(int first, int second)
    {
        var a = Random(2f, first);
        var b = Random(2f, second);
        var total = pair.Input([0.75f], 1);
        foreach (var backend in new Backend[] { pair.Tested, pair.Reference })
        {
            var (ta, tb, tt) = backend == pair.Tested ? (a.Tested, b.Tested, total.Tested) : (a.Reference, b.Reference, total.Reference);
            backend.AccumulateSum(ta, -1, tt);
            backend.AccumulateSum(tb, 1.0 / 3, tt);
        }
        // The total is a float32 on the tested side: the error is taken relative to the magnitudes summed.
        double scale = 0.75 + pair.Reference.ToDoubles(a.Reference).Sum(Math.Abs) + pair.Reference.ToDoubles(b.Reference).Sum(Math.Abs) / 3;
        double tested = pair.Tested.ToDoubles(total.Tested)[0], expected = pair.Reference.ToDoubles(total.Reference)[0];
        Assert.True(Math.Abs(tested - expected) <= Fp32Tolerance * scale, $"accumulated sum {tested} vs {expected} (scale {scale})");
    }

    /// <summary>
    /// The reward model's loss on <paramref name="pairs"/> pairs of scores, margins zero and not (the second call), with
    /// the centering term: the gradient written over poison, the loss and the four statistics added to totals that start
    /// non-zero.
    /// </summary>
    public void BradleyTerry_matches_reference(int pairs)
    {
        const double centering = 0.05;
        var scores = Random(3f, 2 * pairs);
        var margins = pair.Input(Numerics.RandomFloats(random, pairs, 0.5f).Select((m, i) => i % 3 == 0 ? 0 : m).ToArray(), pairs);
        var gradient = pair.Output(2 * pairs);
        var loss = pair.Input([0.75f], 1);
        var statistics = pair.Input([2f, -1f, 0.5f, 3f], BradleyTerryStatistics.Count);
        foreach (var backend in new Backend[] { pair.Tested, pair.Reference })
        {
            bool tested = backend == pair.Tested;
            T Side<T>((T Tested, T Reference) p) => tested ? p.Tested : p.Reference;
            backend.BradleyTerry(Side(scores), Side(margins), centering, pairs + 3, Side(gradient), Side(loss), Side(statistics));
        }
        pair.AssertClose(gradient, Fp32Tolerance, $"Bradley–Terry gradient of {pairs} pairs");
        // The totals are float32 on the tested side: errors are taken relative to the magnitudes summed.
        var absolute = pair.Reference.ToDoubles(scores.Reference).Select(Math.Abs).ToArray();
        double[] scales = [pairs + 2, absolute.Sum() + 1, absolute.Sum() + 1, absolute.Sum(a => a * a) + 3];
        double lossScale = 0.75 + pairs * (1 + 2 * absolute.Max() + centering * 4 * absolute.Max() * absolute.Max());
        double testedLoss = pair.Tested.ToDoubles(loss.Tested)[0], expectedLoss = pair.Reference.ToDoubles(loss.Reference)[0];
        Assert.True(Math.Abs(testedLoss - expectedLoss) <= Fp32Tolerance * lossScale, $"loss sum {testedLoss} vs {expectedLoss}");
        var (testedSums, expectedSums) = (pair.Tested.ToDoubles(statistics.Tested), pair.Reference.ToDoubles(statistics.Reference));
        for (int i = 0; i < BradleyTerryStatistics.Count; i++)
            Assert.True(Math.Abs(testedSums[i] - expectedSums[i]) <= Fp32Tolerance * scales[i], $"statistic {i}: {testedSums[i]} vs {expectedSums[i]}");
    }

    /// <summary>
    /// PPO's clipped surrogate and entropy bonus on <paramref name="rows"/> rows, a third of them not response rows
    /// (target −1), log-ratios in ±0.5 so both sides of the clip occur: gradients written over poison, the loss and the
    /// five statistics added to totals that start non-zero.
    /// </summary>
    public void PpoPolicyLoss_matches_reference(int rows)
    {
        var old = Numerics.RandomFloats(random, rows, 2f).Select(v => v - 2f).ToArray();
        var logProbs = pair.Input(old.Select(v => v + (float)random.NextDouble() - 0.5f).ToArray(), rows, 1);
        var (oldLogProbs, entropy, advantages) = (pair.Input(old, rows), Random(3f, rows), Random(2f, rows));
        var targets = pair.Ints(Enumerable.Range(0, rows).Select(_ => random.Next(3) == 0 ? -1 : random.Next(100)).ToArray(), rows);
        var (logProbGradient, entropyGradient) = (pair.Output(rows, 1), pair.Output(rows));
        var loss = pair.Input([0.75f], 1);
        var statistics = pair.Input([1f, 2f, 0.5f, 3f, -1f], PpoLosses.PolicyStatistics);
        var settings = new PpoLossSettings(0.2, 0.01, rows + 5);
        foreach (var backend in new Backend[] { pair.Tested, pair.Reference })
        {
            bool tested = backend == pair.Tested;
            Tensor Side((Tensor Tested, Tensor Reference) p) => tested ? p.Tested : p.Reference;
            backend.PpoPolicyLoss(Side(logProbs), Side(entropy), Side(oldLogProbs), Side(advantages), Side(targets), settings, Side(logProbGradient),
                Side(entropyGradient), Side(loss), Side(statistics));
        }
        pair.AssertClose(logProbGradient, Fp32Tolerance, $"PPO log-prob gradient of {rows} rows");
        pair.AssertClose(entropyGradient, Fp32Tolerance, $"PPO entropy gradient of {rows} rows");
        // Totals are float32 on the tested side: errors are taken relative to the magnitudes summed (ratios within e^±0.5).
        double magnitude = rows * (2 * Math.Exp(0.5) + 3) + 10;
        AssertTotalsClose(loss, statistics, magnitude);
    }

    /// <summary>PPO's clipped value loss on <paramref name="rows"/> rows laid out as <see cref="PpoPolicyLoss_matches_reference"/>, moves of ±0.5 against a clip of 0.2.</summary>
    public void PpoValueLoss_matches_reference(int rows)
    {
        var old = Numerics.RandomFloats(random, rows, 2f);
        var values = pair.Input(old.Select(v => v + (float)random.NextDouble() - 0.5f).ToArray(), rows, 1);
        var (oldValues, returns) = (pair.Input(old, rows), Random(2f, rows));
        var targets = pair.Ints(Enumerable.Range(0, rows).Select(_ => random.Next(3) == 0 ? -1 : random.Next(100)).ToArray(), rows);
        var gradient = pair.Output(rows, 1);
        var loss = pair.Input([0.75f], 1);
        var statistics = pair.Input([1f, 2f], PpoLosses.ValueStatistics);
        var settings = new PpoLossSettings(0.2, 0.1, rows + 5);
        foreach (var backend in new Backend[] { pair.Tested, pair.Reference })
        {
            bool tested = backend == pair.Tested;
            Tensor Side((Tensor Tested, Tensor Reference) p) => tested ? p.Tested : p.Reference;
            backend.PpoValueLoss(Side(values), Side(oldValues), Side(returns), Side(targets), settings, Side(gradient), Side(loss), Side(statistics));
        }
        pair.AssertClose(gradient, Fp32Tolerance, $"PPO value gradient of {rows} rows");
        AssertTotalsClose(loss, statistics, rows * 25.0 + 10);
    }

    private void AssertTotalsClose((Tensor Tested, Tensor Reference) loss, (Tensor Tested, Tensor Reference) statistics, double magnitude)
    {
        double testedLoss = pair.Tested.ToDoubles(loss.Tested)[0], expectedLoss = pair.Reference.ToDoubles(loss.Reference)[0];
        Assert.True(Math.Abs(testedLoss - expectedLoss) <= Fp32Tolerance * magnitude, $"loss sum {testedLoss} vs {expectedLoss} (magnitude {magnitude})");
        var (testedSums, expectedSums) = (pair.Tested.ToDoubles(statistics.Tested), pair.Reference.ToDoubles(statistics.Reference));
        for (int i = 0; i < testedSums.Length; i++)
            Assert.True(Math.Abs(testedSums[i] - expectedSums[i]) <= Fp32Tolerance * magnitude, $"statistic {i}: {testedSums[i]} vs {expectedSums[i]}");
    }

    /// <param name="counts">The tensors' element counts: ragged, some spanning several blocks of a device reduction.</param>
    public void GlobalNorm_over_many_tensors_matches_reference(int[] counts)
    {
        var tensors = counts.Select(c => Random(3f, c)).ToList();
        var norm = pair.Output(1);
        pair.Tested.GlobalNorm(tensors.Select(t => t.Tested).ToList(), norm.Tested);
        pair.Reference.GlobalNorm(tensors.Select(t => t.Reference).ToList(), norm.Reference);
        pair.AssertClose(norm, Fp32Tolerance, $"global norm of {counts.Length} tensors");
    }

    /// <summary>
    /// The optimizer step guarded by values left on the device: a loss from <see cref="Backend.AccumulateSum"/> and a norm
    /// from <see cref="Backend.GlobalNorm"/>. Step 1 is clipped (the bound half the norm), step 2 is not (bound 0), both against
    /// the reference's one-tensor update with the clip scale spelled out; a NaN loss (step 3) and an infinite norm (step 4)
    /// leave every parameter and moment unchanged bit for bit.
    /// </summary>
    public void Guarded_AdamW_clips_by_the_device_norm_and_skips_non_finite_steps(int[] counts)
    {
        var parameters = counts.Select(c => Random(1f, c)).ToList();
        var firsts = counts.Select(c => Random(0.1f, c)).ToList();
        var seconds = counts.Select(c => pair.Input(Numerics.RandomFloats(random, c, 0.1f).Select(Math.Abs).ToArray(), c)).ToList();
        var gradients = counts.Select(c => Random(1f, c)).ToList();
        var lossTerms = Random(1f, 9);
        var loss = pair.Input([0f], 1);
        var norm = pair.Output(1);
        pair.Tested.AccumulateSum(lossTerms.Tested, -1, loss.Tested);
        pair.Tested.GlobalNorm(gradients.Select(g => g.Tested).ToList(), norm.Tested);
        double referenceNorm = Math.Sqrt(gradients.Sum(g => pair.Reference.SumOfSquares(g.Reference)));
        var updates = Enumerable.Range(0, counts.Length).Select(i => new AdamWParameter(parameters[i].Tested, gradients[i].Tested,
            firsts[i].Tested, seconds[i].Tested, Decays: true)).ToList();

        foreach (var (step, maxNorm) in new[] { (1, referenceNorm / 2), (2, 0.0) })
        {
            var adam = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step);
            pair.Tested.AdamW(updates, adam, new AdamWGuard(loss.Tested, norm.Tested, (float)maxNorm));
            var clipped = adam with { GradientScale = (float)AdamWGuard.ClipScale(referenceNorm, (float)maxNorm) };
            for (int i = 0; i < counts.Length; i++)
                pair.Reference.AdamW(parameters[i].Reference, gradients[i].Reference, firsts[i].Reference, seconds[i].Reference, clipped);
            for (int i = 0; i < counts.Length; i++)
            {
                pair.AssertClose(parameters[i], Fp32Tolerance, $"guarded adamw step {step}, parameter {i} ({counts[i]} elements)");
                pair.AssertClose(seconds[i], Fp32Tolerance, $"guarded adamw step {step}, second moment {i}");
            }
        }

        foreach (var (step, nonFinite, value) in new[] { (3, loss.Tested, double.NaN), (4, norm.Tested, double.PositiveInfinity) })
        {
            var before = parameters.Concat(firsts).Concat(seconds).Select(t => pair.Tested.ToFloats(t.Tested)).ToList();
            pair.Tested.Fill(nonFinite, value);
            pair.Tested.AdamW(updates, new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step), new AdamWGuard(loss.Tested, norm.Tested, 1f));
            var after = parameters.Concat(firsts).Concat(seconds).Select(t => pair.Tested.ToFloats(t.Tested)).ToList();
            for (int i = 0; i < before.Count; i++) Assert.True(before[i].SequenceEqual(after[i]), $"step {step} with a {value} changed tensor {i}");
            pair.Tested.Fill(nonFinite, 1);
        }
    }

    /// <summary>
    /// The optimizer's form of AdamW: one update over a list of parameters, weight decay only where flagged, against the
    /// reference's one-tensor update with the decay spelled out. The third step updates only every other parameter, so a
    /// backend that keeps a device table of the list must notice the list changed.
    /// </summary>
    /// <param name="counts">The parameters' element counts: ragged, some spanning several chunks of a multi-tensor kernel.</param>
    public void AdamW_over_many_parameters_matches_reference_and_follows_a_changed_list(int[] counts)
    {
        var parameters = counts.Select(c => Random(1f, c)).ToList();
        var firsts = counts.Select(c => pair.Input(new float[c], c)).ToList();
        var seconds = counts.Select(c => pair.Input(new float[c], c)).ToList();
        bool Decays(int i) => i % 3 != 1;
        for (int step = 1; step <= 4; step++)
        {
            var gradients = counts.Select(c => Random(1f, c)).ToList();
            var updated = Enumerable.Range(0, counts.Length).Where(i => step != 3 || i % 2 == 0).ToList();
            var adam = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, GradientScale: 0.5f);
            pair.Tested.AdamW(updated.Select(i => new AdamWParameter(parameters[i].Tested, gradients[i].Tested, firsts[i].Tested,
                seconds[i].Tested, Decays(i))).ToList(), adam);
            foreach (int i in updated)
                pair.Reference.AdamW(parameters[i].Reference, gradients[i].Reference, firsts[i].Reference, seconds[i].Reference,
                    Decays(i) ? adam : adam with { WeightDecay = 0 });
        }
        for (int i = 0; i < counts.Length; i++)
        {
            pair.AssertClose(parameters[i], Fp32Tolerance, $"adamw parameter {i} ({counts[i]} elements)");
            pair.AssertClose(firsts[i], Fp32Tolerance, $"adamw first moment {i}");
            pair.AssertClose(seconds[i], Fp32Tolerance, $"adamw second moment {i}");
        }
    }

    public void ScatterAddRows_accumulates_repeated_indices_and_skips_minus_one(int rows, int tableRows, int width)
    {
        // Many rows share a few destinations (tokens sharing an id); every fifth row is masked.
        var indices = Enumerable.Range(0, rows).Select(i => i % 5 == 4 ? -1 : random.Next(tableRows)).ToArray();
        indices[0] = indices[1] = tableRows - 1;
        var source = Random(1f, rows, width);
        var idx = pair.Ints(indices, rows);
        var table = Random(1f, tableRows, width);
        pair.Tested.ScatterAddRows(source.Tested, idx.Tested, table.Tested);
        pair.Reference.ScatterAddRows(source.Reference, idx.Reference, table.Reference);
        pair.AssertClose(table, Fp32Tolerance, $"scatter-add {rows} rows into {tableRows}×{width}");
    }

    /// <summary>
    /// A device backend adds repeated indices in row order, as the CPU backend does, so the two agree bit for bit; half
    /// the rows share one index (a padding token's embedding gradient).
    /// </summary>
    public void ScatterAddRows_equals_the_cpu_backend_bit_for_bit(int rows, int tableRows, int width)
    {
        var indices = Enumerable.Range(0, rows).Select(i => i % 2 == 0 ? 3 : i % 9 == 1 ? -1 : random.Next(tableRows)).ToArray();
        float[] source = Numerics.RandomFloats(random, (long)rows * width), table = Numerics.RandomFloats(random, (long)tableRows * width);
        using var cpu = new Backends.Cpu.CpuBackend(2);
        var expected = cpu.FromFloats(table, tableRows, width);
        cpu.ScatterAddRows(cpu.FromFloats(source, rows, width), cpu.FromInts(indices, rows), expected);
        var tested = pair.Tested.FromFloats(table, tableRows, width);
        pair.Tested.ScatterAddRows(pair.Tested.FromFloats(source, rows, width), pair.Tested.FromInts(indices, rows), tested);
        Assert.Equal(cpu.ToFloats(expected), pair.Tested.ToFloats(tested));
    }

    public void RmsNormBackward_matches_reference(int rows, int width)
    {
        var x = Random(3f, rows, width);
        var w = Random(1f, width);
        var inv = pair.Output(rows);
        pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, pair.Tested.Allocate(rows, width), inv.Tested);
        pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, pair.Reference.Allocate(rows, width), inv.Reference);
        var dy = Random(1f, rows, width);
        var (dx, dw) = (Random(1f, rows, width), Random(1f, width));
        pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, dw.Tested);
        pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, dw.Reference);
        pair.AssertClose(dx, Fp32Tolerance, "rmsnorm d input");
        pair.AssertClose(dw, Fp32Tolerance, "rmsnorm d weight");

        pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, weightGrad: null); // a frozen weight
        pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, weightGrad: null);
        pair.AssertClose(dx, Fp32Tolerance, "rmsnorm d input, frozen weight");
    }

    public void SwiGluBackward_matches_reference(int rows, int width)
    {
        var gate = Random(6f, rows, width);
        var up = Random(1f, rows, width);
        var dOut = Random(1f, rows, width);
        var (dGate, dUp) = (Random(1f, rows, width), Random(1f, rows, width));
        var (gateBefore, upBefore) = (pair.Reference.ToDoubles(dGate.Reference), pair.Reference.ToDoubles(dUp.Reference));
        pair.Tested.SwiGluBackward(gate.Tested, up.Tested, dOut.Tested, dGate.Tested, dUp.Tested);
        pair.Reference.SwiGluBackward(gate.Reference, up.Reference, dOut.Reference, dGate.Reference, dUp.Reference);
        AssertAccumulated(dGate, gateBefore, "swiglu d gate");
        AssertAccumulated(dUp, upBefore, "swiglu d up");
    }

    /// <summary>
    /// An accumulated gradient against the reference, its error measured against the sizes of the two summands (what was
    /// there, what was added): with one element the sum can cancel to almost nothing, and its own size would then turn a
    /// float32 rounding of the summands into a large relative error.
    /// </summary>
    private void AssertAccumulated((Tensor Tested, Tensor Reference) output, double[] before, string what)
    {
        var (tested, expected) = (pair.Tested.ToFloats(output.Tested), pair.Reference.ToDoubles(output.Reference));
        double Norm(Func<int, double> element) => Math.Sqrt(Enumerable.Range(0, expected.Length).Sum(i => element(i) * element(i)));
        double error = Norm(i => tested[i] - expected[i]) / (Norm(i => before[i]) + Norm(i => expected[i] - before[i]));
        Assert.True(error <= Fp32Tolerance, $"{what}: error {error:E2} relative to the summands > {Fp32Tolerance:E1}");
    }

    public void TokenLogProbs_forward_and_backward_match_reference(int rows, int vocab, bool withEntropy)
    {
        // With a float32 log-sum-exp, 1 − p of a near-certain target is exact only to ~1e-7 absolute, which a
        // one-row, seven-token gradient would weigh against its own tiny norm; keep the small vocabulary's rows
        // away from one-hot. Large vocabularies cannot be near one-hot with logits in ±8.
        var logits = Random(vocab < 100 ? 2f : 8f, rows, vocab);
        var targets = Enumerable.Range(0, rows).Select(i => i % 4 == 1 ? -1 : random.Next(vocab)).ToArray();
        targets[^1] = vocab - 1;
        var t = pair.Ints(targets, rows);
        var (logProbs, lse) = (pair.Output(rows), pair.Output(rows));
        var entropy = withEntropy ? pair.Output(rows) : default;
        pair.Tested.TokenLogProbs(logits.Tested, t.Tested, logProbs.Tested, lse.Tested, entropy.Tested);
        pair.Reference.TokenLogProbs(logits.Reference, t.Reference, logProbs.Reference, lse.Reference, entropy.Reference);
        pair.AssertClose(logProbs, Fp32Tolerance, "log-probs");
        pair.AssertClose(lse, Fp32Tolerance, "log-sum-exp");
        if (withEntropy) pair.AssertClose(entropy, Fp32Tolerance, "entropy");

        var logProbGrad = Random(1f, rows);
        var entropyGrad = withEntropy ? Random(1f, rows) : default;
        var logitsGrad = Random(1e-3f, rows, vocab); // the gradient's scale: most of it is p ≈ 1/V
        pair.Tested.TokenLogProbsBackward(logits.Tested, t.Tested, lse.Tested, logProbGrad.Tested, entropy.Tested, entropyGrad.Tested, logitsGrad.Tested);
        pair.Reference.TokenLogProbsBackward(logits.Reference, t.Reference, lse.Reference, logProbGrad.Reference, entropy.Reference,
            entropyGrad.Reference, logitsGrad.Reference);
        pair.AssertClose(logitsGrad, Fp32Tolerance, "d logits");
    }

    public void AdamW_matches_reference_over_several_steps(int count)
    {
        var parameter = Random(1f, count);
        var (first, second) = (pair.Input(new float[count], count), pair.Input(new float[count], count));
        // The same steps on the gradients' magnitudes: a first moment with no cancellation, the size of the terms a
        // signed first moment sums. With one element, four random gradients can cancel to near zero, and float32's
        // last-bit rounding relative to that would exceed any bound (as the GEMM checks learned).
        var reference = pair.Reference;
        using var magnitudeParameter = reference.FromFloats(new float[count], count);
        using var magnitudeFirst = reference.FromFloats(new float[count], count);
        using var magnitudeSecond = reference.FromFloats(new float[count], count);
        for (int step = 1; step <= 4; step++)
        {
            var values = Numerics.RandomFloats(random, count);
            var gradient = pair.Input(values, count);
            var adam = new AdamWStep(1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, step, GradientScale: 0.5f);
            pair.Tested.AdamW(parameter.Tested, gradient.Tested, first.Tested, second.Tested, adam);
            reference.AdamW(parameter.Reference, gradient.Reference, first.Reference, second.Reference, adam);
            using var magnitudes = reference.FromFloats(Array.ConvertAll(values, MathF.Abs), count);
            reference.AdamW(magnitudeParameter, magnitudes, magnitudeFirst, magnitudeSecond, adam);
        }
        pair.AssertClose(parameter, Fp32Tolerance, "adamw parameter");
        pair.AssertCloseToScale(first, magnitudeFirst, Fp32Tolerance, "adamw first moment");
        pair.AssertClose(second, Fp32Tolerance, "adamw second moment");
    }

    /// <param name="paddingStep">Batch row b starts with b·paddingStep empty slots (position -1), and so do its queries: left padding.</param>
    public void AttentionBackward_matches_reference(int batch, int length, int keyLength, int queryHeads, int kvHeads, int headDim,
        int? window, int paddingStep)
    {
        int Position(int b, int slot) => slot < b * paddingStep ? -1 : slot - b * paddingStep;
        var queryPositions = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(keyLength - length, length).Select(s => Position(b, s)));
        var keyPositions = Enumerable.Range(0, batch).SelectMany(b => Enumerable.Range(0, keyLength).Select(s => Position(b, s)));
        AssertAttentionBackward(new AttentionSpec(queryHeads, kvHeads, headDim, window), batch, queryPositions.ToArray(), keyPositions.ToArray(),
            $"attention backward B={batch} Sq={length} Sk={keyLength} H={queryHeads}/{kvHeads} D={headDim} W={window}");
    }

    public void AttentionBackward_handles_permuted_and_empty_key_slots_like_a_rolling_cache()
    {
        // A ring holding positions 12..19 in rotated order plus two empty slots; three queries, one of which sees nothing.
        int[] slots = [16, 17, 18, 19, -1, 13, 14, 15, -1, 12];
        AssertAttentionBackward(new AttentionSpec(4, 2, 8, SlidingWindow: 6), 1, [18, 19, -1], slots, "attention backward over a rotated cache");
    }

    private void AssertAttentionBackward(AttentionSpec spec, int batch, int[] queryPositions, int[] keyPositions, string what)
    {
        int length = queryPositions.Length / batch, keyLength = keyPositions.Length / batch;
        int queryWidth = spec.QueryHeads * spec.HeadDim, kvWidth = spec.KvHeads * spec.HeadDim;
        var q = Random(2f, batch, length, queryWidth);
        var k = Random(2f, batch, keyLength, kvWidth);
        var v = Random(1f, batch, keyLength, kvWidth);
        var qPos = pair.Ints(queryPositions, batch, length);
        var kPos = pair.Ints(keyPositions, batch, keyLength);
        var output = pair.Output(batch, length, queryWidth);
        var lse = pair.Output(batch, spec.QueryHeads, length);
        pair.Tested.Attention(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested);
        pair.Reference.Attention(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference, lse.Reference);

        var dOut = Random(1f, batch, length, queryWidth);
        var (dq, dk, dv) = (Random(1f, batch, length, queryWidth), Random(1f, batch, keyLength, kvWidth), Random(1f, batch, keyLength, kvWidth));
        pair.Tested.AttentionBackward(q.Tested, k.Tested, v.Tested, qPos.Tested, kPos.Tested, spec, output.Tested, lse.Tested,
            dOut.Tested, dq.Tested, dk.Tested, dv.Tested);
        pair.Reference.AttentionBackward(q.Reference, k.Reference, v.Reference, qPos.Reference, kPos.Reference, spec, output.Reference,
            lse.Reference, dOut.Reference, dq.Reference, dk.Reference, dv.Reference);
        pair.AssertClose(dq, Fp32Tolerance, $"{what}: dq");
        pair.AssertClose(dk, Fp32Tolerance, $"{what}: dk");
        pair.AssertClose(dv, Fp32Tolerance, $"{what}: dv");
    }
}
