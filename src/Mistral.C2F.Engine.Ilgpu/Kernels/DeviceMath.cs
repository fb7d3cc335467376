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

    /// <summary>The thread's first element and the stride of a 1D grid-stride loop.</summary>
    public static long GlobalThread => (long)Grid.IdxX * Group.DimX + Group.IdxX;
    public static long GlobalThreads => (long)Grid.DimX * Group.DimX;

    /// <summary>Butterfly sum over lanes that differ in the low bits below <paramref name="width"/>: every lane gets the result.</summary>
    public static float LaneSum(float value, int width)
    {
        for (int offset = width / 2; offset > 0; offset /= 2) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    public static float LaneMax(float value, int width)
    {
        for (int offset = width / 2; offset > 0; offset /= 2) value = IntrinsicMath.Max(value, Warp.ShuffleXor(value, offset));
        return value;
    }

    public static double LaneSum(double value, int width)
    {
        for (int offset = width / 2; offset > 0; offset /= 2) value += Warp.ShuffleXor(value, offset);
        return value;
    }

    public static float WarpSum(float value) => LaneSum(value, Warp.WarpSize);
    public static double WarpSum(double value) => LaneSum(value, Warp.WarpSize);
}
