using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Engine.Tests.Distributed;

/// <summary>The one-process communicator: every collective is the identity, and a rank other than 0 does not exist.</summary>
[Trait("Backend", "cpu")]
public sealed class SingleProcessTests
{
    [Fact]
    public void A_broadcast_from_rank_0_keeps_the_bytes_and_one_from_another_rank_is_refused()
    {
        var bytes = new byte[37];
        Random.Shared.NextBytes(bytes);
        var kept = bytes.ToArray();
        SingleProcess.Instance.Broadcast(bytes, root: 0);
        Assert.Equal(kept, bytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => SingleProcess.Instance.Broadcast(bytes, root: 1));
    }
}
