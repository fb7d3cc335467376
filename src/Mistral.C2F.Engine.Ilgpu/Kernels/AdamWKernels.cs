using ILGPU;
using ILGPU.Runtime;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Fused AdamW (PyTorch semantics, see <see cref="AdamWStep"/>): each thread reads parameter, gradient and
/// both moments of its elements once and writes parameter and moments once: 28 bytes per parameter.
/// </summary>
internal sealed class AdamWKernels(KernelLaunch launch)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWScalars> _update =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWScalars>(UpdateKernel);

    public void Apply(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> firstMoment, ArrayView<float> secondMoment, AdamWStep step)
    {
        if (parameter.Length > 0) _update(launch.GridStride(parameter.Length), parameter, gradient, firstMoment, secondMoment, new AdamWScalars(step));
    }

    /// <summary>The step's scalars folded once on the host: p ← p·(1 − lr·λ) − (lr/c₁)·m / (√v/√c₂ + ε).</summary>
    internal readonly struct AdamWScalars(AdamWStep step)
    {
        public readonly float GradientScale = step.GradientScale;
        public readonly float Beta1 = step.Beta1, OneMinusBeta1 = 1 - step.Beta1;
        public readonly float Beta2 = step.Beta2, OneMinusBeta2 = 1 - step.Beta2;
        public readonly float StepSize = (float)(step.LearningRate / step.FirstMomentCorrection);
        public readonly float InverseSqrtSecondCorrection = (float)(1 / Math.Sqrt(step.SecondMomentCorrection));
        public readonly float Epsilon = step.Epsilon;
        public readonly float Decay = (float)(1 - (double)step.LearningRate * step.WeightDecay);
    }

    private static void UpdateKernel(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, AdamWScalars s)
    {
        for (long i = DeviceMath.GlobalThread; i < parameter.Length; i += DeviceMath.GlobalThreads)
        {
            float grad = gradient[i] * s.GradientScale;
            float first = s.Beta1 * firstMoment[i] + s.OneMinusBeta1 * grad;
            float second = s.Beta2 * secondMoment[i] + s.OneMinusBeta2 * grad * grad;
            firstMoment[i] = first;
            secondMoment[i] = second;
            parameter[i] = parameter[i] * s.Decay - s.StepSize * first / (MathF.Sqrt(second) * s.InverseSqrtSecondCorrection + s.Epsilon);
        }
    }
}
