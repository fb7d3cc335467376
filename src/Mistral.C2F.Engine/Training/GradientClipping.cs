using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Training;

/// <summary>The global L2 norm of all gradients and the scale that clips it to a maximum (PyTorch's clip_grad_norm_).</summary>
public static class GradientClipping
{
    public static double GlobalNorm(Backend backend, IEnumerable<Tensor> gradients) =>
        Math.Sqrt(backend.SumOfSquares(gradients.ToList()));

    /// <summary>1 when the norm is within <paramref name="maxNorm"/> (or clipping is off: maxNorm ≤ 0), else maxNorm / (norm + 1e-6).</summary>
    public static double Scale(double norm, double maxNorm) => maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1.0;
}
