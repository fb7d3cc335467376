using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Generation;

/// <summary>
/// A rolling key/value cache of <c>slots</c> rows per sequence and layer (the sliding window W): position p
/// lives in slot p mod W, and each slot remembers its position, so attention masks by position, not by slot.
/// A one-token decode step writes first and attends to the ring (it overwrites position p − W, which it no
/// longer sees). A prefill chunk of C tokens attends to the ring as it was plus its own keys, gathered into
/// a scratch context of W + C rows, and only then is written, so no query loses a key it needs.
/// <see cref="Keep"/> drops sequences between chunks, so that a decode step runs only the rows still writing.
/// </summary>
public sealed class KvCache : IKeyValueContext, IDisposable
{
    private readonly Backend _backend;
    private readonly Tensor[] _keys, _values;
    private int[] _slotPositions;
    private Tensor _slotPositionsTensor;
    private readonly Workspace _scratch;
    private readonly int _slots, _rowWidth;
    private int _batch;
    private Chunk? _chunk;

    public KvCache(MistralModel model, int batch, int slots)
    {
        if (batch <= 0 || slots <= 0) throw new ArgumentException($"a KV cache needs a positive batch and slot count, got {batch} and {slots}");
        (_backend, _batch, _slots) = (model.Backend, batch, slots);
        _rowWidth = model.Config.NumKeyValueHeads * model.Config.HeadDim;
        _keys = Enumerable.Range(0, model.Config.NumHiddenLayers).Select(_ => _backend.Allocate(batch * slots, _rowWidth)).ToArray();
        _values = Enumerable.Range(0, model.Config.NumHiddenLayers).Select(_ => _backend.Allocate(batch * slots, _rowWidth)).ToArray();
        _slotPositions = new int[batch * slots];
        Array.Fill(_slotPositions, -1);
        _slotPositionsTensor = _backend.Allocate(new Shape(batch, slots), DType.I32);
        _scratch = new Workspace(_backend);
    }

    public int Slots => _slots;

    /// <summary>Sequences the cache holds now: the batch it was made for, less those <see cref="Keep"/> dropped.</summary>
    public int Batch => _batch;

    /// <summary>
    /// Keeps the sequences at <paramref name="rows"/> (ascending indices of the rows held now), which become rows
    /// 0..n−1 with their keys, values and positions; the rest are dropped. Call between chunks.
    /// </summary>
    public void Keep(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (_chunk is not null) throw new InvalidOperationException("KvCache.Keep called inside a chunk");
        if (rows.Count == 0) throw new ArgumentException("a KV cache must keep at least one sequence", nameof(rows));
        for (int i = 0; i < rows.Count; i++)
            if (rows[i] < 0 || rows[i] >= _batch || (i > 0 && rows[i] <= rows[i - 1]))
                throw new ArgumentException($"rows to keep must ascend within 0..{_batch - 1}; got {string.Join(", ", rows)}", nameof(rows));
        var source = new int[rows.Count * _slots];
        var positions = new int[source.Length];
        for (int i = 0; i < rows.Count; i++)
        for (int s = 0; s < _slots; s++)
            (source[i * _slots + s], positions[i * _slots + s]) = (rows[i] * _slots + s, _slotPositions[rows[i] * _slots + s]);
        var sourceRows = Ints("kept rows", source, source.Length);
        for (int layer = 0; layer < _keys.Length; layer++)
            (_keys[layer], _values[layer]) = (Gathered(_keys[layer], sourceRows, source.Length), Gathered(_values[layer], sourceRows, source.Length));
        _slotPositionsTensor.Dispose();
        (_batch, _slotPositions) = (rows.Count, positions);
        _slotPositionsTensor = _backend.Allocate(new Shape(_batch, _slots), DType.I32);
        _backend.Upload(_slotPositions, _slotPositionsTensor);
    }

    /// <summary>The rows of <paramref name="all"/> at <paramref name="sourceRows"/>, in a tensor of their own; <paramref name="all"/> is released.</summary>
    private Tensor Gathered(Tensor all, Tensor sourceRows, int count)
    {
        var kept = _backend.Allocate(count, _rowWidth);
        _backend.GatherRows(all, sourceRows, kept);
        all.Dispose();
        return kept;
    }

    /// <summary>
    /// Prepares a chunk of tokens at <paramref name="positions"/> [B·C] (row-major over the batch; -1 marks
    /// padding). Call before the model's forward pass over the chunk, then <see cref="EndChunk"/>.
    /// </summary>
    public void BeginChunk(ReadOnlySpan<int> positions)
    {
        if (positions.Length == 0 || positions.Length % _batch != 0)
            throw new ArgumentException($"{positions.Length} positions do not split over a batch of {_batch}");
        int length = positions.Length / _batch;
        var write = SlotsToWrite(positions, length);
        var writeIndices = Ints("write", write, write.Length);
        var mode = length == 1 ? Mode.Decode : _slotPositions.All(p => p < 0) ? Mode.FirstChunk : Mode.ContinuedChunk;
        _chunk = mode switch
        {
            Mode.Decode => new Chunk(mode, length, writeIndices, _slotPositionsTensor),
            Mode.FirstChunk => new Chunk(mode, length, writeIndices, Ints("chunk positions", positions.ToArray(), _batch, length)),
            _ => ContinuedChunk(positions, length, writeIndices), // reads the slot positions before this chunk's writes
        };
        RecordWrites(write, positions);
    }

    public (Tensor Keys, Tensor Values, Tensor Positions) Attend(int layer, Tensor chunkKeys, Tensor chunkValues)
    {
        var chunk = _chunk ?? throw new InvalidOperationException("KvCache.Attend called outside BeginChunk/EndChunk");
        (Tensor Keys, Tensor Values) context;
        switch (chunk.Mode)
        {
            case Mode.Decode:
                Write(layer, chunkKeys, chunkValues, chunk.WriteIndices);
                context = (_keys[layer], _values[layer]);
                break;
            case Mode.FirstChunk:
                Write(layer, chunkKeys, chunkValues, chunk.WriteIndices);
                context = (chunkKeys, chunkValues);
                break;
            default:
                int rows = _batch * (_slots + chunk.Length);
                context = (_scratch.Rows("keys", rows, _rowWidth), _scratch.Rows("values", rows, _rowWidth));
                _backend.ScatterRows(_keys[layer], chunk.RingToContext!, context.Keys);
                _backend.ScatterRows(_values[layer], chunk.RingToContext!, context.Values);
                _backend.ScatterRows(chunkKeys, chunk.ChunkToContext!, context.Keys);
                _backend.ScatterRows(chunkValues, chunk.ChunkToContext!, context.Values);
                Write(layer, chunkKeys, chunkValues, chunk.WriteIndices);
                break;
        }
        int keyLength = chunk.KeyPositions.Shape[1];
        return (context.Keys.Reshape(_batch, keyLength, _rowWidth), context.Values.Reshape(_batch, keyLength, _rowWidth), chunk.KeyPositions);
    }

    public void EndChunk() => _chunk = null;

    // Only the last W positions of a row's chunk survive in the ring; padding is never written.
    private int[] SlotsToWrite(ReadOnlySpan<int> positions, int length)
    {
        var write = new int[positions.Length];
        for (int b = 0; b < _batch; b++)
        {
            var row = positions.Slice(b * length, length);
            int last = int.MinValue;
            foreach (var p in row) last = Math.Max(last, p);
            for (int i = 0; i < length; i++)
                write[b * length + i] = row[i] >= 0 && row[i] > last - _slots ? b * _slots + row[i] % _slots : -1;
        }
        return write;
    }

    private Chunk ContinuedChunk(ReadOnlySpan<int> positions, int length, Tensor writeIndices)
    {
        int context = _slots + length;
        var ringToContext = new int[_batch * _slots];
        var chunkToContext = new int[_batch * length];
        var contextPositions = new int[_batch * context];
        for (int b = 0; b < _batch; b++)
        {
            for (int s = 0; s < _slots; s++)
            {
                ringToContext[b * _slots + s] = b * context + s;
                contextPositions[b * context + s] = _slotPositions[b * _slots + s];
            }
            for (int i = 0; i < length; i++)
            {
                chunkToContext[b * length + i] = b * context + _slots + i;
                contextPositions[b * context + _slots + i] = positions[b * length + i];
            }
        }
        return new Chunk(Mode.ContinuedChunk, length, writeIndices, Ints("context positions", contextPositions, _batch, context),
            Ints("ring to context", ringToContext, ringToContext.Length), Ints("chunk to context", chunkToContext, chunkToContext.Length));
    }

    private void RecordWrites(int[] write, ReadOnlySpan<int> positions)
    {
        for (int i = 0; i < write.Length; i++)
            if (write[i] >= 0) _slotPositions[write[i]] = positions[i];
        _backend.Upload(_slotPositions, _slotPositionsTensor);
    }

    private void Write(int layer, Tensor chunkKeys, Tensor chunkValues, Tensor writeIndices)
    {
        _backend.ScatterRows(chunkKeys, writeIndices, _keys[layer]);
        _backend.ScatterRows(chunkValues, writeIndices, _values[layer]);
    }

    private Tensor Ints(string name, int[] values, params int[] dims)
    {
        var tensor = _scratch.IntRows(name, values.Length, 1).Reshape(dims);
        _backend.Upload(values, tensor);
        return tensor;
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t.Dispose();
        _slotPositionsTensor.Dispose();
        _scratch.Dispose();
    }

    private enum Mode { Decode, FirstChunk, ContinuedChunk }

    private sealed record Chunk(Mode Mode, int Length, Tensor WriteIndices, Tensor KeyPositions,
        Tensor? RingToContext = null, Tensor? ChunkToContext = null);
}
