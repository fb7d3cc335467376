using ILGPU;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Device helpers shared by the kernels. Exponentials and logarithms go through exp2/log2, which ILGPU
/// maps to PTX's ex2/lg2 instructions on every CUDA device; MathF.Exp and MathF.Log need CUDA's
/// libdevice (a toolkit install), which a machine with only the driver lacks.
/// </summary>
internal static class DeviceMath
{
    public const float Log2E = 1.44269504088896341f;
    public const float Ln2 = 0.693147180559945309f;

    public static float Exp(float x) => IntrinsicMath.CPUOnly.Exp2(x * Log2E);
    public static float Exp2(float x) => IntrinsicMath.CPUOnly.Exp2(x);
    public static float Log(float x) => IntrinsicMath.CPUOnly.Log2(x) * Ln2;
    public static float Log2(float x) => IntrinsicMath.CPUOnly.Log2(x);

    /// <summary>
    /// IEEE 754's maximum: the larger of a and b, NaN when either is NaN, so a NaN reaches a softmax's output as the op
    /// contract requires. IntrinsicMath.Max on CUDA (PTX max.f32) and <c>a &gt; b ? a : b</c> return the other operand
    /// instead, although the CPU accelerator's Math.Max propagates it. Ordered comparisons are false for a NaN, and then
    /// a + b is NaN.
    /// </summary>
    public static float Maximum(float a, float b) => a >= b ? a : b >= a ? b : a + b;

    /// <summary>The thread's first element and the stride of a 1D grid-stride loop.</summary>
    public static long GlobalThread => (long)Grid.IdxX * Group.DimX + Group.IdxX;
    public static long GlobalThreads => (long)Grid.DimX * Group.DimX;

    /// <summary>The first row and the stride of a warp-per-row grid-stride loop (1D groups of whole warps).</summary>
    public static long GlobalWarp => (long)Grid.IdxX * (Group.DimX / Warp.WarpSize) + Warp.WarpIdx;
    public static long GlobalWarps => (long)Grid.DimX * (Group.DimX / Warp.WarpSize);

    /// <summary>Butterfly sum over the warp: every lane gets the total.</summary>
    public static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    /// <inheritdoc cref="WarpSum(float)"/>
    public static double WarpSum(double value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2) value += Warp.ShuffleXor(value, offset);
        return value;
    }
}
