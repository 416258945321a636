namespace Stax;

/// <summary>
/// A typed PRNG key (or a batch of keys), like a jax.random key array: it wraps a uint32 tensor
/// of shape <c>[..., 2]</c>, the two Threefry key words of every key. <see cref="Shape"/> is the
/// batch shape (empty for a single key). Keys are values: splitting or folding returns new keys
/// and never changes this one. The wrapped tensor may be traced, so keys work inside Jit, Vmap
/// (wrap the traced uint32 data with <c>new Key(data)</c>) and gradients (as integers, keys get
/// zero tangents).
/// </summary>
public sealed class Key
{
    /// <summary>Wraps key data: a uint32 tensor whose last dimension is 2 (jax.random.wrap_key_data).</summary>
    public Key(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.DType != DType.UInt32 || data.Rank == 0 || data.Shape[data.Rank - 1] != 2)
            throw new ArgumentException($"Key: expected key data of dtype uint32 and shape (..., 2), got {data.DType.Name()} of shape {data.Shape}");
        _data = data;
    }

    Key() { _data = null; }

    /// <summary>
    /// The absent key: what a module receives when no rng was given. Splitting or deconstructing it
    /// gives absent keys; drawing from it is an error (modules that need randomness, such as
    /// Dropout, say so).
    /// </summary>
    public static readonly Key None = new();

    /// <summary>True for <see cref="None"/>.</summary>
    public bool IsNone => _data is null;

    readonly Tensor? _data;

    /// <summary>The raw key data, uint32 of shape <c>[..., 2]</c> (jax.random.key_data).</summary>
    public Tensor Data => _data ?? throw new InvalidOperationException("Key.None: no rng key was provided; pass a key (e.g. Rng.Key(0))");

    /// <summary>The batch shape: the data's shape without its last dimension (empty for one key).</summary>
    public Shape Shape => new(Data.Shape.ToArray()[..^1]);

    /// <summary>Number of batch dimensions (0 for a single key).</summary>
    public int Rank => Data.Rank - 1;

    /// <summary>True for a single key (no batch dimensions).</summary>
    public bool IsSingle => Rank == 0;

    /// <summary>Key <paramref name="i"/> along the first batch dimension (negative counts from the end).</summary>
    public Key this[int i]
    {
        get
        {
            if (Rank == 0) throw new ArgumentException("Key: cannot index a single key (shape ()); index a batch of keys");
            int n = Data.Shape[0];
            if (i < -n || i >= n) throw new ArgumentException($"Key: index {i} is out of range for a key batch of shape {Shape}");
            if (i < 0) i += n;
            var start = new int[Data.Rank];
            var limit = Data.Shape.ToArray();
            start[0] = i;
            limit[0] = i + 1;
            return new Key(Lax.Reshape(Lax.Slice(Data, start, limit), new Shape(Data.Shape.ToArray()[1..])));
        }
    }

    /// <summary>Splits into <paramref name="num"/> new keys, each of this key's batch shape (jax.random.split).</summary>
    public Key[] Split(int num = 2) => IsNone ? Enumerable.Repeat(None, num).ToArray() : Rng.Split(this, num);

    /// <summary>A new key from this one and an integer (jax.random.fold_in).</summary>
    public Key FoldIn(Tensor data) => Rng.FoldIn(this, data);

    /// <summary>Splits into two keys: <c>var (k1, k2) = key;</c></summary>
    public void Deconstruct(out Key k1, out Key k2) { var k = Split(2); (k1, k2) = (k[0], k[1]); }

    /// <summary>Splits into three keys.</summary>
    public void Deconstruct(out Key k1, out Key k2, out Key k3) { var k = Split(3); (k1, k2, k3) = (k[0], k[1], k[2]); }

    /// <summary>Splits into four keys.</summary>
    public void Deconstruct(out Key k1, out Key k2, out Key k3, out Key k4)
    { var k = Split(4); (k1, k2, k3, k4) = (k[0], k[1], k[2], k[3]); }

    /// <summary>Splits into five keys.</summary>
    public void Deconstruct(out Key k1, out Key k2, out Key k3, out Key k4, out Key k5)
    { var k = Split(5); (k1, k2, k3, k4, k5) = (k[0], k[1], k[2], k[3], k[4]); }

    /// <summary>Splits into six keys.</summary>
    public void Deconstruct(out Key k1, out Key k2, out Key k3, out Key k4, out Key k5, out Key k6)
    { var k = Split(6); (k1, k2, k3, k4, k5, k6) = (k[0], k[1], k[2], k[3], k[4], k[5]); }

    /// <summary>Splits into seven keys.</summary>
    public void Deconstruct(out Key k1, out Key k2, out Key k3, out Key k4, out Key k5, out Key k6, out Key k7)
    { var k = Split(7); (k1, k2, k3, k4, k5, k6, k7) = (k[0], k[1], k[2], k[3], k[4], k[5], k[6]); }

    /// <summary>Splits into eight keys.</summary>
    public void Deconstruct(out Key k1, out Key k2, out Key k3, out Key k4, out Key k5, out Key k6, out Key k7, out Key k8)
    { var k = Split(8); (k1, k2, k3, k4, k5, k6, k7, k8) = (k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7]); }

    /// <summary>Formats as <c>Key(shape=(), data=[0, 42])</c> (data only when concrete and small).</summary>
    public override string ToString()
    {
        if (IsNone) return "Key.None";
        if (!Data.IsConcrete || Data.Size > 16) return $"Key(shape={Shape})";
        return $"Key(shape={Shape}, data=[{string.Join(", ", Data.ToArray<uint>())}])";
    }
}
