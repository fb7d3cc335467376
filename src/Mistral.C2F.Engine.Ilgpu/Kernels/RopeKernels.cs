using ILGPU;
using ILGPU.Runtime;

namespace Mistral.C2F.Engine.Ilgpu.Kernels;

/// <summary>
/// Rotary embedding in place, rotate-half pairing: one thread per (token, head, d &lt; headDim/2) pair.
/// The angle position·θ^(−2d/D) is formed in float64, as the reference does, and reduced to [−π, π)
/// before the float32 sine and cosine, so large positions lose no accuracy. θ^(−2d/D) is computed as
/// r^d with r = θ^(−2/D) passed from the host, by squaring: only float64 multiplies, which every CUDA
/// device has natively (float64 pow would need libdevice).
/// </summary>
internal sealed class RopeKernels(KernelLaunch launch)
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, RopeShape> _rotate =
        launch.Load<ArrayView<float>, ArrayView<int>, RopeShape>(RotateKernel);

    internal readonly record struct RopeShape(long Tokens, int RowLength, int HeadDim, double FrequencyRatio, int Inverse);

    public void Rotate(ArrayView<float> x, ArrayView<int> positions, long tokens, int rowLength, int headDim, double theta, bool inverse)
    {
        long pairs = tokens * (rowLength / 2);
        if (pairs == 0) return;
        _rotate(launch.GridStride(pairs), x, positions, new RopeShape(tokens, rowLength, headDim, Math.Pow(theta, -2.0 / headDim), inverse ? 1 : 0));
    }

    private static void RotateKernel(ArrayView<float> x, ArrayView<int> positions, RopeShape shape)
    {
        int half = shape.HeadDim / 2, pairsPerToken = shape.RowLength / 2;
        for (long pair = DeviceMath.GlobalThread; pair < shape.Tokens * pairsPerToken; pair += DeviceMath.GlobalThreads)
        {
            long token = pair / pairsPerToken;
            int inToken = (int)(pair % pairsPerToken), head = inToken / half, d = inToken % half;
            double angle = positions[token] * Power(shape.FrequencyRatio, d);
            angle -= Math.Floor(angle / (2 * Math.PI) + 0.5) * (2 * Math.PI);
            float cos = MathF.Cos((float)angle), sin = MathF.Sin((float)angle);
            if (shape.Inverse != 0) sin = -sin;
            long first = token * shape.RowLength + head * shape.HeadDim + d;
            float x1 = x[first], x2 = x[first + half];
            x[first] = x1 * cos - x2 * sin;
            x[first + half] = x2 * cos + x1 * sin;
        }
    }

    private static double Power(double value, int exponent)
    {
        double result = 1;
        for (; exponent > 0; exponent >>= 1, value *= value)
            if ((exponent & 1) != 0) result *= value;
        return result;
    }
}
