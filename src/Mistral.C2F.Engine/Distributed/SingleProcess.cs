namespace Mistral.C2F.Engine.Distributed;

/// <summary>A job of one process: every collective is the identity, and no MPI library is loaded.</summary>
public sealed class SingleProcess : ICommunicator
{
    public static SingleProcess Instance { get; } = new();

    private SingleProcess() { }

    public int Rank => 0;
    public int Size => 1;

    public void AllReduceSum(Span<float> values) { }

    public void AllReduceSum(Span<double> values) { }

    public void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> share) => Blocks.Copy(values, share);

    public void AllGather(ReadOnlySpan<float> share, Span<float> values) => Blocks.Copy(share, values);

    public void AllGather(ReadOnlySpan<double> share, Span<double> values) => Blocks.Copy(share, values);

    public void Broadcast(Span<byte> values, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
    }

    public void Barrier() { }

    public void Dispose() { }
}
