using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Distributed;

/// <summary>
/// One parameter's part of a rank's range: its elements <see cref="Start"/>.. (flat), as views of the parameter and its
/// gradient, at <see cref="FlatStart"/> in the flat vector of every parameter.
/// </summary>
public sealed record ShardPiece(string Name, Tensor Parameter, Tensor Gradient, int Start, int Length, long FlatStart);

/// <summary>
/// ZeRO stage 1's partition (DeepSpeed's): the parameters, in order, form one flat vector of P elements cut into Size
/// equal ranges of ⌈P / Size⌉ (the last one short), and rank r owns range r: its optimizer state exists on rank r alone.
/// A step reduce-scatters the gradients so that each rank holds the sum over the ranks of its range, each rank updates
/// its range, and an all-gather gives every rank the updated weights. Transfers go through host memory in rounds of at
/// most <see cref="RoundElements"/> per rank, so no MPI count overflows and the host buffer stays bounded.
/// </summary>
public sealed class Zero1Partition
{
    /// <summary>Elements per rank and round: 16 MiB of float32 per rank.</summary>
    public const int RoundElements = 1 << 22;

    private readonly Backend _backend;
    private readonly ICommunicator _communicator;
    private readonly (string Name, Tensor Parameter, Tensor Gradient, long Offset)[] _flat;
    private readonly int _round;
    private readonly float[] _blocks, _share;

    /// <param name="roundElements">Elements per rank and round (<see cref="RoundElements"/>; tests make it small).</param>
    public Zero1Partition(Backend backend, ICommunicator communicator, IReadOnlyList<(string Name, Tensor Parameter, Tensor Gradient)> parameters,
        int roundElements = RoundElements)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(roundElements, 1);
        (_backend, _communicator) = (backend, communicator);
        long offset = 0;
        _flat = parameters.Select(p =>
        {
            var entry = (p.Name, Flat(p.Parameter), Flat(p.Gradient), offset);
            offset += p.Parameter.ElementCount;
            return entry;
        }).ToArray();
        Elements = offset;
        ShardElements = (Elements + communicator.Size - 1) / communicator.Size;
        long first = Math.Min(Elements, communicator.Rank * ShardElements), end = Math.Min(Elements, first + ShardElements);
        Pieces = PiecesOf(first, end);
        _round = (int)Math.Max(1, Math.Min(roundElements, ShardElements));
        (_blocks, _share) = (new float[(long)_round * communicator.Size], new float[_round]);
    }

    /// <summary>P: the elements of every parameter.</summary>
    public long Elements { get; }

    /// <summary>⌈P / Size⌉: the elements each rank's state covers (the last rank's range may be shorter).</summary>
    public long ShardElements { get; }

    /// <summary>This rank's range, parameter by parameter, in flat order.</summary>
    public IReadOnlyList<ShardPiece> Pieces { get; }

    /// <summary>Every rank's gradients become, on its own range, the sum over the ranks (other ranges are left as they were).</summary>
    public void ReduceScatterGradients()
    {
        for (long done = 0; done < ShardElements; done += _round)
        {
            int count = (int)Math.Min(_round, ShardElements - done);
            for (int rank = 0; rank < _communicator.Size; rank++)
                Download(rank * ShardElements + done, _blocks.AsSpan(rank * count, count), gradients: true);
            _communicator.ReduceScatterSum(_blocks.AsSpan(0, count * _communicator.Size), _share.AsSpan(0, count));
            Upload(_communicator.Rank * ShardElements + done, _share.AsSpan(0, count), gradients: true);
        }
    }

    /// <summary>Every rank's parameters become, on every range, what the range's owner holds.</summary>
    public void AllGatherParameters() => AllGather((start, values) => Download(start, values, gradients: false),
        (start, values) => Upload(start, values, gradients: false), includeOwn: false);

    /// <summary>
    /// A flat vector of P elements gathered from every rank's range, this rank's given by <paramref name="own"/> (its
    /// range, in order): the whole of a sharded optimizer state.
    /// </summary>
    public float[] Gather(float[] own)
    {
        long ownStart = Math.Min(Elements, _communicator.Rank * ShardElements), ownLength = Math.Min(Elements, ownStart + ShardElements) - ownStart;
        if (own.Length != ownLength) throw new ArgumentException($"{own.Length} values for a range of {ownLength} elements");
        var whole = new float[Elements];
        AllGather((start, values) => own.AsSpan((int)(start - ownStart), (int)Math.Min(values.Length, ownStart + ownLength - start)).CopyTo(values),
            (start, values) => values[..(int)Math.Min(values.Length, Elements - start)].CopyTo(whole.AsSpan((int)start)), includeOwn: true);
        return whole;
    }

    /// <summary>Each parameter's place in a gathered vector.</summary>
    public IEnumerable<(string Name, long Offset, long Count)> Layout() => _flat.Select(f => (f.Name, f.Offset, f.Parameter.ElementCount));

    private delegate void RangeReader(long start, Span<float> values);
    private delegate void RangeWriter(long start, ReadOnlySpan<float> values);

    /// <summary>Round by round, every rank's range read on its owner and written on every rank (on the owner too when <paramref name="includeOwn"/>).</summary>
    private void AllGather(RangeReader readOwn, RangeWriter write, bool includeOwn)
    {
        for (long done = 0; done < ShardElements; done += _round)
        {
            int count = (int)Math.Min(_round, ShardElements - done);
            var share = _share.AsSpan(0, count);
            share.Clear();
            long ownStart = _communicator.Rank * ShardElements + done;
            if (ownStart < Elements) readOwn(ownStart, share);
            _communicator.AllGather(share, _blocks.AsSpan(0, count * _communicator.Size));
            for (int rank = 0; rank < _communicator.Size; rank++)
            {
                long start = rank * ShardElements + done;
                if ((rank != _communicator.Rank || includeOwn) && start < Elements) write(start, _blocks.AsSpan(rank * count, count));
            }
        }
    }

    /// <summary>Flat elements start.. of the gradients or the parameters into <paramref name="values"/>, zeros past the end.</summary>
    private void Download(long start, Span<float> values, bool gradients)
    {
        values.Clear();
        foreach (var (piece, at) in PiecesAt(start, values.Length)) _backend.Download(gradients ? piece.Gradient : piece.Parameter, values.Slice(at, piece.Length));
    }

    /// <summary>Flat elements start.. of the gradients or the parameters from <paramref name="values"/> (what lies past the end is dropped).</summary>
    private void Upload(long start, ReadOnlySpan<float> values, bool gradients)
    {
        foreach (var (piece, at) in PiecesAt(start, values.Length)) _backend.Upload(values.Slice(at, piece.Length), gradients ? piece.Gradient : piece.Parameter);
    }

    /// <summary>The pieces of flat elements [start, start + length), each with its place in that range.</summary>
    private IEnumerable<(ShardPiece Piece, int At)> PiecesAt(long start, int length) =>
        PiecesOf(start, Math.Min(Elements, start + length)).Select(p => (p, (int)(p.FlatStart - start)));

    /// <summary>The parameters' parts that flat elements [first, end) cover, as views.</summary>
    private List<ShardPiece> PiecesOf(long first, long end)
    {
        var pieces = new List<ShardPiece>();
        foreach (var (name, parameter, gradient, offset) in _flat)
        {
            long from = Math.Max(first, offset), to = Math.Min(end, offset + parameter.ElementCount);
            if (from >= to) continue;
            int start = (int)(from - offset), length = (int)(to - from);
            pieces.Add(new ShardPiece(name, parameter.SliceRows(start, length), gradient.SliceRows(start, length), start, length, from));
        }
        return pieces;
    }

    private static Tensor Flat(Tensor t) => t.Reshape(checked((int)t.ElementCount));
}
