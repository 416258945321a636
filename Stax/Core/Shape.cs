using System.Collections;
using System.Runtime.CompilerServices;

namespace Stax;

/// <summary>An immutable tensor shape (dimension sizes, row-major). Compared by value.</summary>
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    readonly int[]? _dims;

    /// <summary>Creates a shape from dimension sizes; each must be non-negative.</summary>
    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"Shape: dimension sizes must be non-negative, got {Format(dims)}");
        CheckSize(dims);
        _dims = (int[])dims.Clone();
    }

    Shape(int[] dims, bool noCopy) { _dims = dims; }

    internal static Shape Wrap(int[] dims)
    {
        CheckSize(dims);
        return new(dims, true);
    }

    /// <summary>Element counts must fit a long, so that <see cref="Size"/> and every byte count derived
    /// from it are exact (an overflow would silently make a tensor of 0 bytes).</summary>
    static void CheckSize(int[] dims)
    {
        if (Array.IndexOf(dims, 0) >= 0) return;
        long size = 1;
        foreach (var d in dims)
        {
            if (size > long.MaxValue / d)
                throw new ArgumentException($"Shape: {Format(dims)} has more than {long.MaxValue} elements");
            size *= d;
        }
    }

    /// <summary>The shape of a scalar: <c>()</c>.</summary>
    public static Shape Scalar => default;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims?.Length ?? 0;

    /// <summary>Number of dimensions (<see cref="IReadOnlyCollection{T}"/>).</summary>
    public int Count => Rank;

    /// <summary>Total number of elements.</summary>
    public long Size
    {
        get
        {
            long n = 1;
            if (_dims != null) foreach (var d in _dims) n *= d;
            return n;
        }
    }

    /// <summary>Size of dimension <paramref name="i"/>; negative indices count from the end.</summary>
    public int this[int i]
    {
        get
        {
            int r = Rank;
            if (i < -r || i >= r) throw new ArgumentOutOfRangeException(nameof(i), $"Shape: dimension {i} out of range for shape {this}");
            return _dims![i < 0 ? i + r : i];
        }
    }

    /// <summary>The dimension sizes as a new array.</summary>
    public int[] ToArray() => _dims == null ? Array.Empty<int>() : (int[])_dims.Clone();

    /// <summary>The dimension sizes without copying.</summary>
    public ReadOnlySpan<int> Dims => _dims;

    /// <summary>Row-major strides in elements.</summary>
    public long[] Strides()
    {
        var s = new long[Rank];
        long acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= _dims![i]; }
        return s;
    }

    /// <inheritdoc/>
    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }
    /// <summary>Value equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    /// <summary>Value inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>Converts an int array to a shape.</summary>
    public static implicit operator Shape(int[] dims) => new(dims);

    /// <summary>Formats as <c>(2, 3)</c>; a rank-1 shape as <c>(5,)</c>.</summary>
    public override string ToString() => Format(Dims);

    internal static string Format(ReadOnlySpan<int> dims)
        => dims.Length == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims.ToArray()) + ")";

    /// <inheritdoc/>
    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)(_dims ?? Array.Empty<int>())).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Normalises a possibly negative axis against this rank, or throws naming <paramref name="op"/>.</summary>
    public int Axis(int axis, string op)
    {
        int r = Rank;
        if (axis < -r || axis >= r)
            throw new ArgumentException($"{op}: axis {axis} is out of range for shape {this} (rank {r})");
        return axis < 0 ? axis + r : axis;
    }
}
