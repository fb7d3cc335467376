namespace Mistral.C2F.Engine.Distributed;

/// <summary>
/// The collectives data parallelism needs, over the processes of one job (ranks 0..Size−1), on host buffers. Every
/// rank calls each collective in the same order with buffers of the same length; a call returns when this rank's part
/// is done. Reduce-scatter and all-gather work on equal blocks, one per rank in rank order (MPI's
/// <c>Reduce_scatter_block</c> and <c>Allgather</c>): a caller with uneven parts pads them.
/// </summary>
public interface ICommunicator : IDisposable
{
    int Rank { get; }
    int Size { get; }

    /// <summary>Rank 0: the one that writes checkpoints, metrics and progress.</summary>
    bool IsRoot => Rank == 0;

    /// <summary>Every rank's <paramref name="values"/> becomes the element-wise sum over the ranks.</summary>
    void AllReduceSum(Span<float> values);

    /// <inheritdoc cref="AllReduceSum(Span{float})"/>
    void AllReduceSum(Span<double> values);

    /// <summary>
    /// <paramref name="values"/> holds Size blocks of <paramref name="share"/>'s length; this rank's <paramref name="share"/>
    /// becomes the element-wise sum over the ranks of their block number Rank.
    /// </summary>
    void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> share);

    /// <summary>Every rank's <paramref name="share"/>, rank r's as block r of <paramref name="values"/> (Size blocks of the share's length).</summary>
    void AllGather(ReadOnlySpan<float> share, Span<float> values);

    /// <inheritdoc cref="AllGather(ReadOnlySpan{float}, Span{float})"/>
    void AllGather(ReadOnlySpan<double> share, Span<double> values);

    /// <summary>Every rank's <paramref name="values"/> becomes rank <paramref name="root"/>'s (MPI's <c>Bcast</c>): NCCL's unique id, drawn on one rank.</summary>
    void Broadcast(Span<byte> values, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}
