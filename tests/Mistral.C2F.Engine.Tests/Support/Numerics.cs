namespace Mistral.C2F.Engine.Tests.Support;

/// <summary>Random test data and the error measures every kernel test states its tolerance in.</summary>
public static class Numerics
{
    /// <summary>Uniform values in [-scale, scale), never all zeros.</summary>
    public static float[] RandomFloats(Random random, long count, float scale = 1f)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        return values;
    }

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected) =>
        RelativeError(actual, expected, expected);

    /// <summary>‖actual − expected‖₂ / ‖scale‖₂.</summary>
    public static double RelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, ReadOnlySpan<double> scale)
    {
        Assert.Equal(expected.Length, actual.Length);
        Assert.Equal(expected.Length, scale.Length);
        double difference = 0, reference = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            reference += scale[i] * scale[i];
        }
        return Math.Sqrt(difference) / Math.Max(Math.Sqrt(reference), double.Epsilon);
    }

    public static double MaxAbsError(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        double max = 0;
        for (int i = 0; i < actual.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    /// <summary>Fails with both measures when the relative error exceeds the tolerance or anything is not finite.</summary>
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, double relativeTolerance, string what) =>
        AssertCloseToScale(actual, expected, expected, relativeTolerance, what);

    /// <summary>
    /// As <see cref="AssertClose"/>, with the error relative to ‖scale‖₂ instead of ‖expected‖₂: the size of each
    /// element's terms before they cancel (Σ|a||b| + |c| for a product accumulated into c), which is what float32
    /// rounding error is proportional to. A result that cancels to near zero is then not held to a bound its terms
    /// cannot meet.
    /// </summary>
    public static void AssertCloseToScale(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, ReadOnlySpan<double> scale,
        double relativeTolerance, string what)
    {
        for (int i = 0; i < actual.Length; i++)
            if (!float.IsFinite(actual[i]) && double.IsFinite(expected[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
        double relative = RelativeError(actual, expected, scale);
        Assert.True(relative <= relativeTolerance,
            $"{what}: relative error {relative:E2} > {relativeTolerance:E1} (max abs error {MaxAbsError(actual, expected):E2})");
    }

    /// <summary>Fails at the first element that is finite on one side and not on the other (NaN and ±infinity count alike).</summary>
    public static void AssertSameNonFinite(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < actual.Length; i++)
            if (float.IsFinite(actual[i]) != double.IsFinite(expected[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]}, the reference's is {expected[i]}");
    }
}
