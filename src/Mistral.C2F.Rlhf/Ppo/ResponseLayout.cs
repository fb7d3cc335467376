namespace Mistral.C2F.Rlhf.Ppo;

/// <summary>
/// The shape of a batch of responses, shared by every per-token array of the PPO math: Rows × Width slots stored row-major
/// in one flat array, row b holding its <see cref="Lengths"/>[b] real tokens first and padding after (right padding, as
/// generation produces it). Padding slots are never read; computed arrays hold 0 there.
/// </summary>
public sealed class ResponseLayout
{
    private readonly int[] _lengths;

    /// <param name="width">Slots per row (the padded response length).</param>
    /// <param name="lengths">Real tokens per row, each 1…width: a rollout always has a last token to carry its score.</param>
    public ResponseLayout(int width, IReadOnlyList<int> lengths)
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "a response layout needs at least one slot per row");
        if (lengths.Count == 0) throw new ArgumentException("a response layout needs at least one row", nameof(lengths));
        _lengths = lengths.ToArray();
        for (int row = 0; row < _lengths.Length; row++)
        {
            if (_lengths[row] < 1 || _lengths[row] > width)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"response {row} has {_lengths[row]} tokens; each needs 1…{width}");
            TokenCount += _lengths[row];
        }
        Width = width;
    }

    /// <summary>
    /// The layout of generated responses [rows, width]: a row ends at its first EOS, which counts as a real token (it is
    /// the action that ended the episode and carries the score), or fills the width when no EOS was generated. Only the
    /// first EOS matters, so a pad id equal to EOS (Mistral's default) cannot move the end onto padding.
    /// </summary>
    public static ResponseLayout FromTokens(ReadOnlySpan<int> tokens, int width, int eosTokenId)
    {
        if (width < 1 || tokens.Length == 0 || tokens.Length % width != 0)
            throw new ArgumentException($"{tokens.Length} response tokens are not a whole number of rows of width {width}", nameof(tokens));
        var lengths = new int[tokens.Length / width];
        for (int row = 0; row < lengths.Length; row++)
        {
            int eos = tokens.Slice(row * width, width).IndexOf(eosTokenId);
            lengths[row] = eos < 0 ? width : eos + 1;
        }
        return new ResponseLayout(width, lengths);
    }

    public int Rows => _lengths.Length;
    public int Width { get; }
    /// <summary>Length of every per-token array: Rows × Width.</summary>
    public int Slots => Rows * Width;
    /// <summary>Real (non-padding) tokens in the batch, the N of every token mean.</summary>
    public int TokenCount { get; }
    public IReadOnlyList<int> Lengths => _lengths;

    /// <summary>Flat index of row's first token.</summary>
    public int Start(int row) => row * Width;

    /// <summary>Flat index of row's last real token.</summary>
    public int Last(int row) => row * Width + _lengths[row] - 1;

    /// <summary>Per row, whether its last real token is <paramref name="tokenId"/> (with the EOS id: the rollout ended by itself).</summary>
    public bool[] EndsWith(ReadOnlySpan<int> tokens, int tokenId)
    {
        RequireSlots(tokens.Length, "response tokens");
        var ends = new bool[Rows];
        for (int row = 0; row < Rows; row++) ends[row] = tokens[Last(row)] == tokenId;
        return ends;
    }

    internal void RequireSlots(int length, string what)
    {
        if (length != Slots) throw new ArgumentException($"{what}: expected {Rows}×{Width} = {Slots} values, got {length}");
    }

    internal void RequireRows(int length, string what)
    {
        if (length != Rows) throw new ArgumentException($"{what}: expected one value per response ({Rows}), got {length}");
    }
}
