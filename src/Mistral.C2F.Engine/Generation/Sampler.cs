using System.Numerics.Tensors;

namespace Mistral.C2F.Engine.Generation;

/// <summary>
/// Picks tokens from logits: greedy, or temperature-scaled softmax restricted to the top-k tokens and then
/// to the smallest set whose probability reaches top-p. One sampler per sequence, seeded from the options'
/// seed and the sequence's index, so a sequence's tokens do not depend on what else is in the batch.
/// </summary>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private int[] _order = [];
    private float[] _keys = [];
    private double[] _probabilities = [];

    public Sampler(SamplingOptions options, int sequenceIndex)
    {
        options.Validate();
        _options = options;
        _random = new Random(unchecked(options.Seed * 7919 + sequenceIndex));
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("no logits to sample from");
        // A NaN compares false with everything: argmax or the sort would pick some token as if nothing were wrong.
        if (!TensorPrimitives.IsFiniteAll(logits))
        {
            int bad = logits.IndexOfAnyExceptInRange(float.MinValue, float.MaxValue);
            string value = float.IsNaN(logits[bad]) ? "NaN" : logits[bad] > 0 ? "+infinity" : "-infinity";
            throw new InvalidDataException($"the model gave the logit {value} to token {bad}: its weights or activations are not finite");
        }
        if (_options.IsGreedy) return ArgMax(logits);

        if (_order.Length != logits.Length) (_order, _keys, _probabilities) = (new int[logits.Length], new float[logits.Length], new double[logits.Length]);
        for (int i = 0; i < _order.Length; i++) (_order[i], _keys[i]) = (i, -logits[i]);
        // Sorting primitive keys (negated logits: most likely first) is an order of magnitude faster than a comparer.
        Array.Sort(_keys, _order);

        int candidates = _options.TopK > 0 ? Math.Min(_options.TopK, _order.Length) : _order.Length;
        double max = -_keys[0], total = 0;
        for (int i = 0; i < candidates; i++)
            total += _probabilities[i] = Math.Exp((-_keys[i] - max) / _options.Temperature);

        // Keep the smallest prefix of the sorted candidates whose mass reaches top-p.
        double kept = 0;
        int keep = 0;
        while (keep < candidates && kept < _options.TopP * total) kept += _probabilities[keep++];

        double draw = _random.NextDouble() * kept;
        for (int i = 0; i < keep; i++)
        {
            draw -= _probabilities[i];
            if (draw < 0) return _order[i];
        }
        return _order[keep - 1];
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}
