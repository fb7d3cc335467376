using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// The decision an optimizer step takes from values that stay on the device: update only when the step's loss and
/// gradient norm (one-element tensors, written by <see cref="Backend.AccumulateSum"/> and <see cref="Backend.GlobalNorm"/>)
/// are finite, with the gradient clipped to <see cref="MaxGradientNorm"/> (PyTorch's clip_grad_norm_; 0 = no clipping).
/// The host learns the outcome when it reads the two values, once per step.
/// </summary>
public readonly record struct AdamWGuard(Tensor Loss, Tensor GradientNorm, float MaxGradientNorm)
{
    /// <summary>Whether a step with this loss and gradient norm updates (the kernels decide the same on the device).</summary>
    public static bool Allows(double loss, double gradientNorm) => double.IsFinite(loss) && double.IsFinite(gradientNorm);

    /// <summary>1 when the norm is within <paramref name="maxNorm"/> (or clipping is off: maxNorm ≤ 0), else maxNorm / (norm + 1e-6).</summary>
    public static double ClipScale(double gradientNorm, double maxNorm) =>
        maxNorm > 0 && gradientNorm > maxNorm ? maxNorm / (gradientNorm + 1e-6) : 1.0;

    public void Validate()
    {
        if (Loss.ElementCount != 1 || GradientNorm.ElementCount != 1)
            throw new ArgumentException($"AdamW guard: the loss and the gradient norm must be one element each, got {Loss.Shape} and {GradientNorm.Shape}");
        if (!(MaxGradientNorm >= 0)) throw new ArgumentException($"AdamW guard: the maximum gradient norm must be ≥ 0, got {MaxGradientNorm}");
    }
}
