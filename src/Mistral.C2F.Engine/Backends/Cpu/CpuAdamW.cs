using System.Numerics;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// Fused AdamW (PyTorch semantics, see <see cref="AdamWStep"/>): one vectorised pass reads parameter,
/// gradient and both moments once and writes parameter and moments once. Parallel over ranges.
/// </summary>
internal static unsafe class CpuAdamW
{
    private const long MinimumElementsPerRange = 1 << 15;

    public static void Apply(float* parameter, float* gradient, float* firstMoment, float* secondMoment, long count, AdamWStep step,
        CpuParallel parallel)
    {
        var update = new Update(step);
        parallel.ForRanges(count, (start, end) =>
        {
            long i = start;
            for (; i + Vector<float>.Count <= end; i += Vector<float>.Count)
                update.Apply(parameter + i, gradient + i, firstMoment + i, secondMoment + i);
            if (i < end) update.ApplyToTail(parameter + i, gradient + i, firstMoment + i, secondMoment + i, (int)(end - i));
        }, minimumItemsPerRange: MinimumElementsPerRange);
    }

    /// <summary>The step's scalars folded once: p ← p·(1 − lr·λ) − (lr/c₁)·m / (√v/√c₂ + ε).</summary>
    private readonly struct Update(AdamWStep step)
    {
        private readonly float _gradientScale = step.GradientScale;
        private readonly float _beta1 = step.Beta1, _oneMinusBeta1 = 1 - step.Beta1;
        private readonly float _beta2 = step.Beta2, _oneMinusBeta2 = 1 - step.Beta2;
        private readonly float _stepSize = (float)(step.LearningRate / step.FirstMomentCorrection);
        private readonly float _inverseSqrtSecondCorrection = (float)(1 / Math.Sqrt(step.SecondMomentCorrection));
        private readonly float _epsilon = step.Epsilon;
        private readonly float _decay = (float)(1 - (double)step.LearningRate * step.WeightDecay);

        public void Apply(float* p, float* g, float* m, float* v)
        {
            var grad = *(Vector<float>*)g * _gradientScale;
            var first = Vector.FusedMultiplyAdd(*(Vector<float>*)m, new Vector<float>(_beta1), grad * _oneMinusBeta1);
            var second = Vector.FusedMultiplyAdd(*(Vector<float>*)v, new Vector<float>(_beta2), grad * grad * _oneMinusBeta2);
            var denominator = Vector.FusedMultiplyAdd(Vector.SquareRoot(second), new Vector<float>(_inverseSqrtSecondCorrection), new Vector<float>(_epsilon));
            *(Vector<float>*)m = first;
            *(Vector<float>*)v = second;
            *(Vector<float>*)p = *(Vector<float>*)p * _decay - first * _stepSize / denominator;
        }

        // The last partial vector runs through the same Apply on padded copies, so the formula lives in one place.
        public void ApplyToTail(float* p, float* g, float* m, float* v, int n)
        {
            int width = Vector<float>.Count;
            float* padded = stackalloc float[4 * width];
            float* pp = padded, gp = padded + width, mp = padded + 2 * width, vp = padded + 3 * width;
            for (int i = 0; i < n; i++) (pp[i], gp[i], mp[i], vp[i]) = (p[i], g[i], m[i], v[i]);
            Apply(pp, gp, mp, vp);
            for (int i = 0; i < n; i++) (p[i], m[i], v[i]) = (pp[i], mp[i], vp[i]);
        }
    }
}
