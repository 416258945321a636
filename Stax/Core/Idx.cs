namespace Stax;

/// <summary>
/// One entry of a NumPy-style index, as used by <see cref="Tensor.this[Idx[]]"/>: an integer
/// (selects one element and removes the dimension; negative values and <c>^k</c> count from the
/// end), a C# range (<c>1..^1</c>, clamped like a Python slice), a stepped slice
/// (<see cref="Slice"/>), <see cref="NewAxis"/> (inserts a size-1 dimension) or
/// <see cref="Ellipsis"/> (as many full slices as needed). Built implicitly from
/// <see cref="int"/>, <see cref="System.Index"/> and <see cref="System.Range"/>.
/// </summary>
public readonly struct Idx : IEquatable<Idx>
{
    internal enum IdxKind : byte { Int, Slice, NewAxis, Ellipsis }

    internal readonly IdxKind Kind;
    // Int: the index in Start. Slice: optional start/stop bounds and a non-zero step.
    internal readonly int Start, Stop, Step;
    internal readonly bool HasStart, HasStop, StartFromEnd, StopFromEnd;

    Idx(IdxKind kind, int start = 0, bool hasStart = false, bool startFromEnd = false,
        int stop = 0, bool hasStop = false, bool stopFromEnd = false, int step = 1)
    {
        Kind = kind;
        Start = start; HasStart = hasStart; StartFromEnd = startFromEnd;
        Stop = stop; HasStop = hasStop; StopFromEnd = stopFromEnd;
        Step = step;
    }

    /// <summary>Inserts a new dimension of size 1 (NumPy's <c>np.newaxis</c> / <c>None</c>).</summary>
    public static Idx NewAxis => new(IdxKind.NewAxis);

    /// <summary>Stands for as many full slices as the other entries leave (NumPy's <c>...</c>); at most one per index.</summary>
    public static Idx Ellipsis => new(IdxKind.Ellipsis);

    /// <summary>The full slice <c>..</c> (NumPy's <c>:</c>).</summary>
    public static Idx All => new(IdxKind.Slice);

    /// <summary>
    /// A Python slice <c>start:stop:step</c>: null bounds are open, negative bounds count from the
    /// end, out-of-range bounds clamp, and a negative step walks backwards (so
    /// <c>Idx.Slice(step: -1)</c> reverses). <paramref name="step"/> must not be zero.
    /// </summary>
    public static Idx Slice(int? start = null, int? stop = null, int step = 1)
    {
        if (step == 0) throw new ArgumentException("Idx.Slice: step must not be zero");
        return new(IdxKind.Slice, start ?? 0, start.HasValue, false, stop ?? 0, stop.HasValue, false, step);
    }

    /// <summary>An integer index; negative values count from the end as in NumPy.</summary>
    public static implicit operator Idx(int index) => new(IdxKind.Int, index, true);

    /// <summary>An integer index; <c>^k</c> counts from the end.</summary>
    public static implicit operator Idx(Index index) => new(IdxKind.Int, index.Value, true, index.IsFromEnd);

    /// <summary>A slice with step 1; bounds clamp like Python slices instead of throwing.</summary>
    public static implicit operator Idx(Range range)
        => new(IdxKind.Slice, range.Start.Value, true, range.Start.IsFromEnd, range.End.Value, true, range.End.IsFromEnd, 1);

    /// <summary>Resolves a bound against size <paramref name="n"/>: <c>^k</c> is n - k, a negative value v is n + v.</summary>
    internal static long Resolve(int value, bool fromEnd, int n) => fromEnd ? (long)n - value : value < 0 ? (long)n + value : value;

    /// <summary>
    /// The elements a slice selects from a dimension of size <paramref name="n"/>, as Python's
    /// <c>slice.indices</c>: the first index, the step and the count.
    /// </summary>
    internal (long First, int Step, int Count) SliceIndices(int n)
    {
        long start, stop;
        if (Step > 0)
        {
            start = HasStart ? Math.Clamp(Resolve(Start, StartFromEnd, n), 0, n) : 0;
            stop = HasStop ? Math.Clamp(Resolve(Stop, StopFromEnd, n), 0, n) : n;
            long count = stop > start ? (stop - start + Step - 1) / Step : 0;
            return (start, Step, (int)count);
        }
        else
        {
            start = HasStart ? Math.Clamp(Resolve(Start, StartFromEnd, n), -1, n - 1) : n - 1;
            stop = HasStop ? Math.Clamp(Resolve(Stop, StopFromEnd, n), -1, n - 1) : -1;
            long count = start > stop ? (start - stop - (long)Step - 1) / -(long)Step : 0;
            return (start, Step, (int)count);
        }
    }

    /// <summary>Formats as C#/Python source would write it: <c>3</c>, <c>^1</c>, <c>1..^1</c>, <c>::-1</c>, <c>NewAxis</c>, <c>...</c>.</summary>
    public override string ToString() => Kind switch
    {
        IdxKind.Int => StartFromEnd ? $"^{Start}" : Start.ToString(),
        IdxKind.NewAxis => "NewAxis",
        IdxKind.Ellipsis => "...",
        _ when Step == 1 && (!HasStart || StartFromEnd || Start >= 0) && (!HasStop || StopFromEnd || Stop >= 0)
            => $"{(!HasStart || (!StartFromEnd && Start == 0) ? "" : Bound(Start, StartFromEnd))}..{(!HasStop || (StopFromEnd && Stop == 0) ? "" : Bound(Stop, StopFromEnd))}",
        _ => $"{(HasStart ? Start.ToString() : "")}:{(HasStop ? Stop.ToString() : "")}:{Step}",
    };

    static string Bound(int v, bool fromEnd) => fromEnd ? $"^{v}" : v.ToString();

    /// <inheritdoc/>
    public bool Equals(Idx other)
        => Kind == other.Kind && Start == other.Start && Stop == other.Stop && Step == other.Step
           && HasStart == other.HasStart && HasStop == other.HasStop && StartFromEnd == other.StartFromEnd && StopFromEnd == other.StopFromEnd;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Idx i && Equals(i);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Start, Stop, Step, HasStart, HasStop, StartFromEnd, StopFromEnd);

    /// <summary>Value equality.</summary>
    public static bool operator ==(Idx a, Idx b) => a.Equals(b);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(Idx a, Idx b) => !a.Equals(b);
}
