namespace Stax;

/// <summary>An immutable list of integers with value equality, used in primitive parameters
/// (axes, permutations, strides) so that parameters compare and hash by value.</summary>
public readonly struct IntTuple : IEquatable<IntTuple>
{
    readonly int[]? _items;

    /// <summary>Creates a tuple (copies the values).</summary>
    public IntTuple(params int[] items) { _items = (int[])items.Clone(); }

    /// <summary>The values.</summary>
    public ReadOnlySpan<int> Span => _items;
    /// <summary>Number of values.</summary>
    public int Length => _items?.Length ?? 0;
    /// <summary>Value at <paramref name="i"/>.</summary>
    public int this[int i] => _items![i];
    /// <summary>The values as a new array.</summary>
    public int[] ToArray() => _items == null ? Array.Empty<int>() : (int[])_items.Clone();
    /// <summary>True when <paramref name="v"/> is one of the values.</summary>
    public bool Contains(int v) => Span.Contains(v);

    /// <summary>Converts an array.</summary>
    public static implicit operator IntTuple(int[] items) => new(items);

    /// <inheritdoc/>
    public bool Equals(IntTuple other) => Span.SequenceEqual(other.Span);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is IntTuple t && Equals(t);
    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in Span) h.Add(v);
        return h.ToHashCode();
    }
    /// <summary>Value equality.</summary>
    public static bool operator ==(IntTuple a, IntTuple b) => a.Equals(b);
    /// <summary>Value inequality.</summary>
    public static bool operator !=(IntTuple a, IntTuple b) => !a.Equals(b);
    /// <summary>Formats as <c>(1, 2)</c>.</summary>
    public override string ToString() => Shape.Format(Span);
}
