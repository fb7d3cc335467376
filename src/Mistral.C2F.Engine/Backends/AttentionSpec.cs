namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// Grouped-query attention geometry. Query head h reads key/value head h / (QueryHeads / KvHeads).
/// Key position kp is visible to query position qp iff kp >= 0, kp &lt;= qp and, with a sliding window W,
/// qp - W &lt; kp (docs/DEFINITIONS.md, "Sliding window": W keys including the query's own position).
/// </summary>
public sealed record AttentionSpec(int QueryHeads, int KvHeads, int HeadDim, int? SlidingWindow)
{
    public int GroupSize => QueryHeads / KvHeads;
    public double Scale => 1.0 / Math.Sqrt(HeadDim);

    public bool IsVisible(int queryPosition, int keyPosition) =>
        keyPosition >= 0
        && keyPosition <= queryPosition
        && (SlidingWindow is not int window || queryPosition - window < keyPosition);

    public void Validate()
    {
        if (QueryHeads <= 0 || KvHeads <= 0 || HeadDim <= 0)
            throw new ArgumentException($"attention needs positive head counts and head dim, got {this}");
        if (QueryHeads % KvHeads != 0)
            throw new ArgumentException($"query heads ({QueryHeads}) must be a multiple of key/value heads ({KvHeads})");
        if (SlidingWindow is <= 0)
            throw new ArgumentException($"sliding window must be positive, got {SlidingWindow}");
    }
}
