using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Cuda.Nccl;
using Mistral.C2F.Rlhf.Tests.Distributed;

namespace Mistral.C2F.Engine.Cuda.Tests.Nccl;

/// <summary>NCCL's unique id: nccl.h's 128 bytes, passed by value, and rank 0's draw reaching the other ranks whole over MPI.</summary>
[Trait("Backend", "cpu")]
public sealed class NcclUniqueIdTests
{
    [Fact]
    public void The_id_is_the_128_bytes_of_nccl_h()
    {
        Assert.Equal(128, Unsafe.SizeOf<NcclUniqueId>());
        Assert.Equal(128, Marshal.SizeOf<NcclUniqueId>());
        var id = default(NcclUniqueId);
        Assert.Equal(128, id.Bytes.Length);
    }

    [Fact]
    public void Rank_0s_id_reaches_the_other_rank_whole_over_mpi() => MpiTestRanks.Run(2, typeof(NcclUniqueIdTests), job =>
    {
        var id = NcclUniqueId.Share(job, () =>
        {
            Assert.Equal(0, job.Rank);  // only the root draws: NCCL listens on the drawing rank
            var drawn = default(NcclUniqueId);
            Random.Shared.NextBytes(drawn.Bytes);
            return drawn;
        });
        var mine = id.Bytes.ToArray().Select(b => (double)b).ToArray();
        var both = new double[2 * NcclUniqueId.Length];
        job.AllGather(mine, both);
        Assert.Equal(both[..NcclUniqueId.Length], both[NcclUniqueId.Length..]);
        Assert.Contains(both, b => b != 0);
    });
}
