using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mistral.C2F.Engine.Backends.Cpu;

/// <summary>
/// exp in float32 for the softmax kernels, inlined into their fused loops: Cody-Waite range reduction and
/// the polynomial of Cephes' expf, within 2 ulp. Vector.Exp took twice as long per element on 256-bit
/// Vector&lt;float&gt; and is not inlined. Inputs below -87.3 (and -inf) give exactly 0, so there are no
/// subnormal results; inputs are meant to be at most 88 (larger ones give e^88). NaN gives NaN, as the op
/// contract requires of every kernel: the clamp alone would turn it into a finite value.
/// </summary>
internal static class CpuExp
{
    private const float Lowest = -87.33654f; // ln of the smallest normal float
    private const float Highest = 88f;

    // Inlined into the callers' loops; the Native min, max and conversion skip NaN and overflow fix-ups the clamp makes moot.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var clamped = Vector.MinNative(Vector.MaxNative(x, new Vector<float>(Lowest)), new Vector<float>(Highest));
        var n = Vector.Round(clamped * 1.44269504f); // x = n·ln2 + r, |r| ≤ ln2/2
        var r = Vector.FusedMultiplyAdd(n, new Vector<float>(-0.693359375f), clamped);
        r = Vector.FusedMultiplyAdd(n, new Vector<float>(2.12194440e-4f), r); // ln2 in two parts: r stays exact
        var p = Vector.FusedMultiplyAdd(new Vector<float>(1.9875691500e-4f), r, new Vector<float>(1.3981999507e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(8.3334519073e-3f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(4.1665795894e-2f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(1.6666665459e-1f));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<float>(5.0000001201e-1f));
        var expR = Vector.FusedMultiplyAdd(p, r * r, r + Vector<float>.One);
        var twoToN = Vector.AsVectorSingle(Vector.ShiftLeft(Vector.ConvertToInt32Native(n) + new Vector<int>(127), 23));
        var result = Vector.ConditionalSelect(Vector.LessThan(x, new Vector<float>(Lowest)), Vector<float>.Zero, expR * twoToN);
        return Vector.ConditionalSelect(Vector.Equals(x, x), result, x);
    }
}
