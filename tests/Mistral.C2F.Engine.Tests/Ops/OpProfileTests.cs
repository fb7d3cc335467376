using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tests.Support;

namespace Mistral.C2F.Engine.Tests.Ops;

[Trait("Backend", "cpu")]
public sealed class OpProfileTests
{
    [Fact]
    public void An_attached_profile_counts_every_op_of_a_forward_pass()
    {
        using var backend = new CpuBackend(1);
        using var model = TestModels.Random(TestModels.Tiny(), backend, 1);
        var profile = new OpProfile();
        backend.Profile = profile;
        model.Forward(backend.FromInts([1, 2, 3, 4], 1, 4), backend.FromInts([0, 1, 2, 3], 1, 4));
        var calls = profile.Entries.ToDictionary(e => e.Op, e => e.Calls);
        int layers = model.Config.NumHiddenLayers;
        Assert.Equal(7 * layers + 1, calls["MatMul NT"]);
        Assert.Equal(layers, calls["Attention"]);
        Assert.Equal(1, calls["RmsNorm"]); // the first layer's input norm; every other norm is fused with the residual add before it
        Assert.Equal(2 * layers, calls["AddRmsNorm"]);
        Assert.False(calls.ContainsKey("Add"));
        Assert.True(profile.Total > TimeSpan.Zero);

        backend.Profile = null;
        profile.Reset();
        model.Forward(backend.FromInts([1, 2], 1, 2), backend.FromInts([0, 1], 1, 2));
        Assert.Empty(profile.Entries);
    }
}
