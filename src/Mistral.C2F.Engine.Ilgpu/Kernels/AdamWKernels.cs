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

    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWScalars, DeviceGuard> _guardedUpdate =
        launch.Load<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWScalars, DeviceGuard>(GuardedUpdateKernel);

    public void Apply(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> firstMoment, ArrayView<float> secondMoment, AdamWStep step)
    {
        if (parameter.Length > 0) _update(launch.GridStride(parameter.Length), parameter, gradient, firstMoment, secondMoment, new AdamWScalars(step));
    }

    /// <summary>
    /// The update guarded by the step's loss and gradient norm where they are (<see cref="AdamWGuard"/>): nothing unless
    /// both are finite, the gradient clipped to <c>maxNorm</c> by the host's formula, in double.
    /// </summary>
    public void Apply(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> firstMoment, ArrayView<float> secondMoment, AdamWStep step,
        (ArrayView<float> Loss, ArrayView<float> Norm, float MaxNorm) guard)
    {
        if (parameter.Length > 0)
            _guardedUpdate(launch.GridStride(parameter.Length), parameter, gradient, firstMoment, secondMoment, new AdamWScalars(step),
                new DeviceGuard(guard.Loss, guard.Norm, guard.MaxNorm));
    }

    /// <summary>Where the step's loss and gradient norm are, and the norm the gradient is clipped to (0: no clipping).</summary>
    internal readonly struct DeviceGuard(ArrayView<float> loss, ArrayView<float> norm, float maxNorm)
    {
        public readonly ArrayView<float> Loss = loss, Norm = norm;
        public readonly float MaxNorm = maxNorm;
    }

    private static void GuardedUpdateKernel(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> firstMoment,
        ArrayView<float> secondMoment, AdamWScalars s, DeviceGuard guard)
    {
        float loss = guard.Loss[0], norm = guard.Norm[0];
        if (float.IsNaN(loss) || float.IsInfinity(loss) || float.IsNaN(norm) || float.IsInfinity(norm)) return;
        double clip = guard.MaxNorm > 0 && norm > guard.MaxNorm ? guard.MaxNorm / (norm + 1e-6) : 1.0;
        float scale = (float)(s.GradientScale * clip);
        for (long i = DeviceMath.GlobalThread; i < parameter.Length; i += DeviceMath.GlobalThreads)
            Update(parameter, gradient, firstMoment, secondMoment, s, scale, i);
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
            Update(parameter, gradient, firstMoment, secondMoment, s, s.GradientScale, i);
    }

    /// <summary>One element's update, its gradient scaled by <paramref name="gradientScale"/>.</summary>
    private static void Update(ArrayView<float> parameter, ArrayView<float> gradient, ArrayView<float> firstMoment, ArrayView<float> secondMoment,
        AdamWScalars s, float gradientScale, long i)
    {
        float grad = gradient[i] * gradientScale;
        float first = s.Beta1 * firstMoment[i] + s.OneMinusBeta1 * grad;
        float second = s.Beta2 * secondMoment[i] + s.OneMinusBeta2 * grad * grad;
        firstMoment[i] = first;
        secondMoment[i] = second;
        parameter[i] = parameter[i] * s.Decay - s.StepSize * first / (MathF.Sqrt(second) * s.InverseSqrtSecondCorrection + s.Epsilon);
    }
}
