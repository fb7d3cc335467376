namespace Mistral.C2F.Engine.Distributed;

/// <summary>
/// The collectives data parallelism needs, over the processes of one job (ranks 0..Size−1), on host buffers. Every
/// rank calls each collective in the same order with buffers of the same length; a call returns when this rank's part
/// is done. (ZeRO-1's reduce-scatter and all-gather join when it does.)
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

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();
}
