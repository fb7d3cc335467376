using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Reference;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Tests.Support;

/// <summary>
/// A backend under test next to the float64 reference: the same host values go into both, outputs of
/// the tested backend are poisoned with NaN before every run, and results are compared in float64.
/// </summary>
public sealed class BackendPair(Backend tested) : IDisposable
{
    public Backend Tested { get; } = tested;
    public ReferenceBackend Reference { get; } = new();

    public (Tensor Tested, Tensor Reference) Input(float[] values, params int[] dims) =>
        (Tested.FromFloats(values, dims), Reference.FromFloats(values, dims));

    public (Tensor Tested, Tensor Reference) Ints(int[] values, params int[] dims) =>
        (Tested.FromInts(values, dims), Reference.FromInts(values, dims));

    public (Tensor Tested, Tensor Reference) Output(params int[] dims)
    {
        var poison = new float[new Shape(dims).ElementCount];
        Array.Fill(poison, float.NaN);
        return Input(poison, dims);
    }

    public void AssertClose((Tensor Tested, Tensor Reference) pair, double relativeTolerance, string what) =>
        Numerics.AssertClose(Tested.ToFloats(pair.Tested), Reference.ToDoubles(pair.Reference), relativeTolerance, what);

    /// <summary>As <see cref="AssertClose"/>, the error relative to <paramref name="scale"/> (a reference tensor of the terms' sizes; see <see cref="Numerics.AssertCloseToScale"/>).</summary>
    public void AssertCloseToScale((Tensor Tested, Tensor Reference) pair, Tensor scale, double relativeTolerance, string what) =>
        Numerics.AssertCloseToScale(Tested.ToFloats(pair.Tested), Reference.ToDoubles(pair.Reference), Reference.ToDoubles(scale), relativeTolerance, what);

    public void Dispose()
    {
        Tested.Dispose();
        Reference.Dispose();
    }
}
