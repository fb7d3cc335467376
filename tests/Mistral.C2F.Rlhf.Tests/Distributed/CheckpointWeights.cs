using Mistral.C2F.Engine.Checkpoints;

namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>Two runs' weights compared tensor by tensor, each difference measured against its tensor's norm.</summary>
public static class CheckpointWeights
{
    /// <summary>Every tensor of <paramref name="actual"/> within <paramref name="tolerance"/> of <paramref name="expected"/>'s, relative to its ‖·‖₂.</summary>
    public static void AssertClose(string expected, string actual, double tolerance, string what)
    {
        using var reference = SafeTensorsFile.Open(expected);
        using var tested = SafeTensorsFile.Open(actual);
        foreach (var tensor in reference.Tensors)
        {
            var values = reference.ReadFloats(tensor.Name);
            double difference = Math.Sqrt(tested.ReadFloats(tensor.Name).Zip(values, (a, b) => ((double)a - b) * ((double)a - b)).Sum());
            double relative = difference / Math.Sqrt(values.Sum(x => (double)x * x));
            TestContext.Current.TestOutputHelper?.WriteLine($"{tensor.Name}: {relative:E2}");
            Assert.True(relative <= tolerance, $"{tensor.Name}: {what} by {relative:E2} of the tensor's norm");
        }
    }
}
