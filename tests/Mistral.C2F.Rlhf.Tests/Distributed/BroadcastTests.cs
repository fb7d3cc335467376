namespace Mistral.C2F.Rlhf.Tests.Distributed;

/// <summary>MPI's broadcast on two ranks: each rank starts with its own bytes, and every rank ends with the root's.</summary>
[Trait("Backend", "cpu")]
public sealed class BroadcastTests
{
    [Fact]
    public void Every_rank_receives_the_roots_bytes_from_either_root() => MpiTestRanks.Run(2, typeof(BroadcastTests), job =>
    {
        foreach (int root in new[] { 1, 0 })
        {
            // 1001 bytes: no multiple of a word; each rank's own pattern, so a broadcast that left one unchanged shows.
            byte[] Pattern(int rank) => Enumerable.Range(0, 1001).Select(i => (byte)(i * 7 + 101 * rank + 13 * root)).ToArray();
            var values = Pattern(job.Rank);
            job.Broadcast(values, root);
            Assert.Equal(Pattern(root), values);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => job.Broadcast(new byte[1], root: 2));
    });
}
