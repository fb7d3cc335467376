using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

[Trait("Backend", "cpu")]
public sealed class FrozenWeightTests : IDisposable
{
    private readonly BackendPair _pair = new(new CpuBackend(2));
    private readonly Random _random = new();

    public void Dispose() => _pair.Dispose();

    [Fact]
    public void RmsNorm_backward_without_a_weight_gradient_still_accumulates_the_input_gradient()
    {
        const int rows = 7, width = 45;
        var x = _pair.Input(Numerics.RandomFloats(_random, rows * width, 2f), rows, width);
        var w = _pair.Input(Numerics.RandomFloats(_random, width), width);
        var dy = _pair.Input(Numerics.RandomFloats(_random, rows * width), rows, width);
        var dx = _pair.Input(Numerics.RandomFloats(_random, rows * width), rows, width);
        var (y, inv) = (_pair.Output(rows, width), _pair.Output(rows));
        _pair.Tested.RmsNorm(x.Tested, w.Tested, 1e-5f, y.Tested, inv.Tested);
        _pair.Reference.RmsNorm(x.Reference, w.Reference, 1e-5f, y.Reference, inv.Reference);
        _pair.Tested.RmsNormBackward(x.Tested, w.Tested, inv.Tested, dy.Tested, dx.Tested, weightGrad: null);
        _pair.Reference.RmsNormBackward(x.Reference, w.Reference, inv.Reference, dy.Reference, dx.Reference, weightGrad: null);
        _pair.AssertClose(dx, 1e-5, "input gradient with a frozen weight");
    }
}
