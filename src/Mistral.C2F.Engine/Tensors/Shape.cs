using System.Collections;

namespace Mistral.C2F.Engine.Tensors;

/// <summary>An immutable list of dimension sizes, row-major (last dimension contiguous).</summary>
public sealed class Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private readonly int[] _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", dims)}]");
        }
        _dims = (int[])dims.Clone();
        long count = 1;
        foreach (var d in _dims) count = checked(count * d);
        ElementCount = count;
    }

    public int Rank => _dims.Length;
    public long ElementCount { get; }
    public int Count => _dims.Length;
    public int this[int axis] => _dims[axis < 0 ? _dims.Length + axis : axis];

    /// <summary>The product of all dimensions but the last: the row count when viewed as a matrix.</summary>
    public long Rows => Rank == 0 ? 1 : ElementCount / Math.Max(1, this[-1]);

    /// <summary>The last dimension: the row length when viewed as a matrix.</summary>
    public int Columns => Rank == 0 ? 1 : this[-1];

    public int[] ToArray() => (int[])_dims.Clone();

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override bool Equals(object? obj) => Equals(obj as Shape);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in _dims) hash.Add(d);
        return hash.ToHashCode();
    }

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)_dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"[{string.Join(", ", _dims)}]";
}
