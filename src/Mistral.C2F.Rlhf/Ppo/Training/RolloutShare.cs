using Mistral.C2F.Engine.Distributed;

namespace Mistral.C2F.Rlhf.Ppo.Training;

/// <summary>
/// A rank's part of a data-parallel PPO batch, and the gathering of every rank's part into the whole, as TRL gathers
/// rollouts across processes: rank r holds the <see cref="Count"/> consecutive rollouts from <see cref="First"/>; after
/// gathering, every rank holds every rollout in the single process's order, so the statistics of the batch (score
/// moments, whitening, KL, the length limit) are computed once per rank on the same numbers. Every gather is one
/// all-gather of equal blocks, a rank's rollouts padded to the widest response.
/// </summary>
public sealed class RolloutShare
{
    private readonly ICommunicator _communicator;

    /// <param name="total">Rollouts in the whole batch; the ranks must divide it.</param>
    public RolloutShare(ICommunicator communicator, int total)
    {
        if (total % communicator.Size != 0)
            throw new ArgumentException($"{total} rollouts cannot be shared by {communicator.Size} ranks");
        (_communicator, Total, Count) = (communicator, total, total / communicator.Size);
        First = communicator.Rank * Count;
    }

    public int Total { get; }
    public int First { get; }
    public int Count { get; }

    /// <summary>Every rank's responses, in the whole batch's order (token ids travel as doubles: exact below 2^53).</summary>
    public int[][] GatherResponses(IReadOnlyList<int[]> local)
    {
        var lengths = Gather(local.Select(r => (double)r.Length).ToArray());
        int width = (int)lengths.Max();
        var share = new double[Count * width];
        for (int b = 0; b < Count; b++)
            for (int j = 0; j < local[b].Length; j++) share[b * width + j] = local[b][j];
        var tokens = new double[Total * width];
        _communicator.AllGather(share, tokens);
        return Enumerable.Range(0, Total).Select(b => tokens.AsSpan(b * width, (int)lengths[b]).ToArray().Select(t => (int)t).ToArray()).ToArray();
    }

    /// <summary>One value per rollout, gathered.</summary>
    public double[] Gather(ReadOnlySpan<double> local)
    {
        if (local.Length != Count) throw new ArgumentException($"{local.Length} values for a share of {Count} rollouts");
        var whole = new double[Total];
        _communicator.AllGather(local, whole);
        return whole;
    }

    /// <summary>One flag per rollout, gathered.</summary>
    public bool[] Gather(IReadOnlyList<bool> local) => Gather(local.Select(f => f ? 1.0 : 0.0).ToArray()).Select(v => v != 0).ToArray();

    /// <summary>Per-token values in the share's layout, gathered into the whole batch's layout.</summary>
    public double[] Gather(ReadOnlySpan<double> local, ResponseLayout localLayout, ResponseLayout wholeLayout)
    {
        localLayout.RequireSlots(local.Length, "per-token values");
        // The share in the whole layout's width, so that rank r's rows are block r of the whole.
        var share = new double[Count * wholeLayout.Width];
        for (int b = 0; b < Count; b++)
            local.Slice(localLayout.Start(b), localLayout.Lengths[b]).CopyTo(share.AsSpan(b * wholeLayout.Width));
        var whole = new double[wholeLayout.Slots];
        _communicator.AllGather(share, whole);
        return whole;
    }
}
