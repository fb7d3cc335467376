using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Engine.Cuda.Nccl;

/// <summary>
/// nccl.h's <c>ncclUniqueId</c>: 128 opaque bytes (<c>NCCL_UNIQUE_ID_BYTES</c>) naming one communicator's bootstrap. One
/// rank draws it, the others must receive the same bytes before every rank calls <c>ncclCommInitRank</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Length)]
internal unsafe struct NcclUniqueId
{
    public const int Length = 128;

    private fixed byte _internal[Length];

    [UnscopedRef]
    public Span<byte> Bytes => MemoryMarshal.CreateSpan(ref _internal[0], Length);

    /// <summary>Rank 0's id on every rank: drawn there by <paramref name="draw"/>, then broadcast over <paramref name="host"/>.</summary>
    public static NcclUniqueId Share(ICommunicator host, Func<NcclUniqueId> draw)
    {
        var id = host.IsRoot ? draw() : default;
        host.Broadcast(id.Bytes, root: 0);
        return id;
    }
}
