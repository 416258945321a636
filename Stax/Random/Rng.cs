namespace Stax;

/// <summary>
/// Counter-based random numbers bit-compatible with jax.random's default PRNG (Threefry-2x32,
/// the "partitionable" scheme that is JAX's default since 0.5.0). Functions are pure: the same
/// key gives the same numbers; derive new keys with <see cref="Split(Key, int)"/> or
/// <see cref="FoldIn(Key, Tensor)"/>. Everything is written with tensor operations over the
/// <c>threefry2x32</c> primitive, so it works under Jit, Vmap (e.g. over a batch of keys) and
/// gradients (keys and integers get zero tangents).
/// </summary>
public static partial class Rng
{
    // ------------------------------------------------------------------ keys

    /// <summary>
    /// A key from a 64-bit seed: <c>[seed &gt;&gt; 32, seed &amp; 0xFFFFFFFF]</c> as uint32, as
    /// jax.random.key does for a 64-bit integer (a negative long fills the high word with ones:
    /// <c>Key(-1L)</c> is <c>[0xFFFFFFFF, 0xFFFFFFFF]</c>, JAX's result with jax_enable_x64).
    /// </summary>
    public static Key Key(long seed)
        => new(Tensor.FromArray(new[] { unchecked((uint)(seed >> 32)), unchecked((uint)seed) }, 2));

    /// <summary>
    /// A key from a 32-bit seed: <c>[0, (uint)seed]</c>, as jax.random.key does for a 32-bit
    /// integer (JAX's default mode): <c>Key(-1)</c> is <c>[0, 0xFFFFFFFF]</c>.
    /// </summary>
    public static Key Key(int seed) => new(Tensor.FromArray(new[] { 0u, unchecked((uint)seed) }, 2));

    /// <summary>A key from a 32-bit unsigned seed: <c>[0, seed]</c>.</summary>
    public static Key Key(uint seed) => new(Tensor.FromArray(new[] { 0u, seed }, 2));

    /// <summary>
    /// A key from an int32 or uint32 scalar tensor (possibly traced): <c>[0, (uint)seed]</c>,
    /// as jax.random.key does for a 32-bit seed array.
    /// </summary>
    public static Key Key(Tensor seed)
    {
        if (seed.Rank != 0 || !(seed.DType is DType.Int32 or DType.UInt32 or DType.UInt8))
            throw new ArgumentException($"Rng.Key: the seed must be an integer scalar, got {seed.DType.Name()} of shape {seed.Shape}");
        var lo = Lax.Reshape(Lax.ConvertElementType(seed, DType.UInt32), new Shape(1));
        var hi = Lax.Reshape(Tensor.Scalar(0, DType.UInt32), new Shape(1));
        return new Key(Lax.Concatenate(new[] { hi, lo }, 0));
    }

    /// <summary>Wraps raw key data (uint32, shape <c>[..., 2]</c>) as a key (jax.random.wrap_key_data).</summary>
    public static Key WrapKeyData(Tensor data) => new(data);

    /// <summary>The raw key data of <paramref name="key"/> (jax.random.key_data).</summary>
    public static Tensor KeyData(Key key) => key.Data;

    /// <summary>The two key words of every key, each of the key's batch shape.</summary>
    static (Tensor K0, Tensor K1) Words(Key key)
    {
        var d = key.Data;
        int last = d.Rank - 1;
        var batch = key.Shape;
        return (Lax.Reshape(Lax.SliceInDim(d, 0, 1, 1, last), batch), Lax.Reshape(Lax.SliceInDim(d, 1, 2, 1, last), batch));
    }

    static Key Stack(Tensor y0, Tensor y1)
    {
        var s = y0.Shape.ToArray().Append(1).ToArray();
        return new Key(Lax.Concatenate(new[] { Lax.Reshape(y0, new Shape(s)), Lax.Reshape(y1, new Shape(s)) }, s.Length - 1));
    }

    /// <summary>The flat row-major index of every position of <paramref name="shape"/>, as uint32 (iota_2x32_shape's low word).</summary>
    static Tensor Counter(string op, Shape shape)
    {
        if (shape.Size > uint.MaxValue)
            throw new ArgumentException($"{op}: shape {shape} has more than 2^32 elements");
        return Lax.Reshape(Lax.Iota(DType.UInt32, new Shape(checked((int)shape.Size))), shape);
    }

    static Tensor U32(double v) => Tensor.Scalar(v, DType.UInt32);

    /// <summary>
    /// Splits every key into keys indexed by <paramref name="shape"/>: the result has shape
    /// <c>shape ++ key.Shape</c>, and new key i (flat index in <paramref name="shape"/>) is
    /// threefry2x32(key, (0, i)), both output words (jax.random.split with a shape).
    /// </summary>
    public static Key Split(Key key, Shape shape)
    {
        int n = shape.Rank, b = key.Rank;
        var outShape = new Shape(shape.ToArray().Concat(key.Shape.ToArray()).ToArray());
        var (k0, k1) = Words(key);
        var batchDims = Enumerable.Range(n, b).ToArray();
        k0 = Lax.BroadcastInDim(k0, outShape, batchDims);
        k1 = Lax.BroadcastInDim(k1, outShape, batchDims);
        var lo = Lax.BroadcastInDim(Counter("Rng.Split", shape), outShape, Enumerable.Range(0, n).ToArray());
        var hi = Lax.BroadcastInDim(U32(0), outShape);
        var (y0, y1) = Lax.Threefry2x32(k0, k1, hi, lo);
        return Stack(y0, y1);
    }

    /// <summary>
    /// Splits <paramref name="key"/> into <paramref name="num"/> keys (jax.random.split). For a
    /// batch of keys every key is split, and element i of the result holds the i-th new key of each.
    /// </summary>
    public static Key[] Split(Key key, int num = 2)
    {
        if (num < 0) throw new ArgumentException($"Rng.Split: num must be non-negative, got {num}");
        var all = Split(key, new Shape(num));
        var keys = new Key[num];
        for (int i = 0; i < num; i++) keys[i] = all[i];
        return keys;
    }

    /// <summary>
    /// A new key from <paramref name="key"/> and integer <paramref name="data"/> (jax.random.fold_in):
    /// threefry2x32(key, (0, (uint32)data)), so <c>FoldIn(key, i)</c> equals <c>Split(key, n)[i]</c>.
    /// <paramref name="data"/> is an int32/uint32 scalar (C# ints convert; it may be traced); a
    /// non-scalar broadcasts against the key batch.
    /// </summary>
    public static Key FoldIn(Key key, Tensor data)
    {
        if (!(data.DType is DType.Int32 or DType.UInt32 or DType.UInt8))
            throw new ArgumentException($"Rng.FoldIn: data must be an integer, got {data.DType.Name()} of shape {data.Shape}");
        var (k0, k1) = Words(key);
        var d = Lax.ConvertElementType(data, DType.UInt32);
        var (y0, y1) = Lax.Threefry2x32(k0, k1, U32(0), d);
        return Stack(y0, y1);
    }

    /// <summary>Runs <paramref name="f"/> on every key of a batch (its first dimension) with Vmap, stacking the results.</summary>
    public static Func<Key, Tensor> Vmap(Func<Key, Tensor> f)
        => keys =>
        {
            if (keys.Rank == 0) throw new ArgumentException("Rng.Vmap: expected a batch of keys (shape (n, ...)), got a single key");
            return Transforms.Vmap(xs => new[] { f(new Key(xs[0])) }, new int?[] { 0 })(new[] { keys.Data })[0];
        };

    // ------------------------------------------------------------------ bits

    static void RequireSingle(string op, Key key)
    {
        if (key.Rank != 0)
            throw new ArgumentException($"{op}: expected a single key (shape ()), got a batch of keys of shape {key.Shape}; split it or use Rng.Vmap / Transforms.Vmap over the keys");
    }

    /// <summary>The two threefry output words for every position of <paramref name="shape"/> (counter = flat index).</summary>
    static (Tensor Y0, Tensor Y1) Hash(string op, Key key, Shape shape)
    {
        RequireSingle(op, key);
        var (k0, k1) = Words(key);
        var lo = Counter(op, shape);
        return Lax.Threefry2x32(k0, k1, U32(0), lo);
    }

    static Tensor Bits32(string op, Key key, Shape shape)
    {
        var (y0, y1) = Hash(op, key, shape);
        return Lax.Xor(y0, y1);
    }

    /// <summary>
    /// Uniform random bits (jax.random.bits): element i is y0 ^ y1 of threefry2x32(key, (0, i));
    /// for uint8 its low 8 bits. <paramref name="dtype"/> is uint32 (default) or uint8.
    /// </summary>
    public static Tensor Bits(Key key, Shape shape = default, DType dtype = DType.UInt32)
    {
        const string op = "Rng.Bits";
        var b = Bits32(op, key, shape);
        return dtype switch
        {
            DType.UInt32 => b,
            DType.UInt8 => Lax.ConvertElementType(b, DType.UInt8),
            _ => throw new ArgumentException($"{op}: dtype must be uint32 or uint8, got {dtype.Name()}"),
        };
    }

    // ------------------------------------------------------------------ uniform

    static void RequireFloat(string op, DType dtype)
    {
        if (!dtype.IsFloat())
            throw new ArgumentException($"{op}: dtype must be a floating-point type, got {dtype.Name()}");
    }

    static Tensor Scalar(double v, DType dtype) => Tensor.Scalar(v, dtype);

    static Tensor Full(Shape shape, double v, DType dtype) => Lax.BroadcastInDim(Tensor.Scalar(v, dtype), shape);

    /// <summary>Floats in [0, 1) from the mantissa bits, exactly as jax.random._uniform builds them.</summary>
    static Tensor UnitFloats(string op, Key key, Shape shape, DType dtype)
    {
        switch (dtype)
        {
            case DType.Float32:
            {
                // bitcast((bits >> 9) | 0x3F800000) - 1
                var bits = Bits32(op, key, shape);
                var m = Lax.Or(Lax.ShiftRightLogical(bits, Full(shape, 9, DType.UInt32)), Full(shape, 0x3F800000, DType.UInt32));
                return Lax.Sub(Lax.BitcastConvertType(m, DType.Float32), Full(shape, 1, DType.Float32));
            }
            case DType.Float64:
            {
                // 64 bits = (y0 << 32) | y1; bitcast((bits >> 12) | 0x3FF0000000000000) - 1 is exactly
                // (bits >> 12) * 2^-52, computed here from the two 32-bit halves without rounding.
                var (y0, y1) = Hash(op, key, shape);
                var hi = Lax.ShiftRightLogical(y0, Full(shape, 12, DType.UInt32));
                var lo = Lax.Or(Lax.ShiftLeft(y0, Full(shape, 20, DType.UInt32)), Lax.ShiftRightLogical(y1, Full(shape, 12, DType.UInt32)));
                var fh = Lax.Mul(Lax.ConvertElementType(hi, DType.Float64), Full(shape, Math.Pow(2, -20), DType.Float64));
                var fl = Lax.Mul(Lax.ConvertElementType(lo, DType.Float64), Full(shape, Math.Pow(2, -52), DType.Float64));
                return Lax.Add(fh, fl);
            }
            case DType.Float16:
            case DType.BFloat16:
            {
                // float16: 16 random bits, 10 mantissa bits; bfloat16: 8 random bits, 7 mantissa bits.
                // The value (bits >> (rng_bits - nmant)) * 2^-nmant is exact in float32 and in the dtype.
                bool half = dtype == DType.Float16;
                int rngBits = half ? 16 : 8, nmant = half ? 10 : 7;
                var bits = Lax.And(Bits32(op, key, shape), Full(shape, (1L << rngBits) - 1, DType.UInt32));
                var m = Lax.ShiftRightLogical(bits, Full(shape, rngBits - nmant, DType.UInt32));
                var f = Lax.Mul(Lax.ConvertElementType(m, DType.Float32), Full(shape, Math.Pow(2, -nmant), DType.Float32));
                return Lax.ConvertElementType(f, dtype);
            }
            default:
                throw new ArgumentException($"{op}: dtype must be a floating-point type, got {dtype.Name()}");
        }
    }

    static Tensor BroadcastBound(string op, string what, Tensor v, Shape shape, DType dtype)
    {
        RequireBroadcastsTo(op, what, v.Shape, shape);
        return Np.BroadcastTo(Lax.ConvertElementType(v, dtype), shape);
    }

    static void RequireBroadcastsTo(string op, string what, Shape v, Shape shape)
    {
        bool ok = v.Rank <= shape.Rank;
        for (int i = 0; ok && i < v.Rank; i++)
            ok = v[i] == 1 || v[i] == shape[shape.Rank - v.Rank + i];
        if (!ok)
            throw new ArgumentException($"{op}: {what} of shape {v} does not broadcast to the requested shape {shape}");
    }

    static Tensor UniformCore(string op, Key key, Shape shape, DType dtype, Tensor minval, Tensor maxval)
    {
        RequireFloat(op, dtype);
        var lo = BroadcastBound(op, "minval", minval, shape, dtype);
        var hi = BroadcastBound(op, "maxval", maxval, shape, dtype);
        var u = UnitFloats(op, key, shape, dtype);
        // JAX's floats * (maxval - minval) + minval is one fused multiply-add on XLA:CPU.
        bool plain = PlainMulAddIsFused(Lax.ConvertElementType(minval, dtype), Lax.ConvertElementType(maxval, dtype));
        return Lax.Max(lo, MulAdd(u, Lax.Sub(hi, lo), lo, plain));
    }

    /// <summary>
    /// Uniform floats in [<paramref name="minval"/>, <paramref name="maxval"/>) (jax.random.uniform):
    /// u = bitcast((bits &gt;&gt; 9) | 0x3F800000) - 1 for float32 (the dtype's mantissa width in
    /// general), then <c>max(minval, u * (maxval - minval) + minval)</c> in <paramref name="dtype"/>,
    /// the multiply-add rounded once (fused) for float32 as XLA:CPU compiles it, so the values are
    /// JAX's bit for bit.
    /// </summary>
    public static Tensor Uniform(Key key, Shape shape = default, DType dtype = DType.Float32, double minval = 0, double maxval = 1)
    {
        RequireFloat("Rng.Uniform", dtype);
        return UniformCore("Rng.Uniform", key, shape, dtype, Scalar(minval, dtype), Scalar(maxval, dtype));
    }

    /// <summary>Uniform floats with tensor bounds that broadcast to <paramref name="shape"/> (they may be traced).</summary>
    public static Tensor Uniform(Key key, Shape shape, DType dtype, Tensor minval, Tensor maxval)
        => UniformCore("Rng.Uniform", key, shape, dtype, minval, maxval);

    // ------------------------------------------------------------------ normal family

    /// <summary>The largest value of <paramref name="dtype"/> below 1 in magnitude on the negative side: nextafter(-1, 0).</summary>
    static double NextAfterMinusOne(DType dtype) => dtype switch
    {
        DType.Float32 => BitConverter.UInt32BitsToSingle(0xBF7FFFFF),
        DType.Float64 => Math.BitIncrement(-1.0),
        DType.Float16 => -(1 - Math.Pow(2, -11)),
        _ => -(1 - Math.Pow(2, -8)),
    };

    /// <summary>
    /// Standard normal samples (jax.random.normal): <c>sqrt(2) * erf_inv(u)</c> with u uniform in
    /// [nextafter(-1, 0), 1).
    /// </summary>
    public static Tensor Normal(Key key, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.Normal";
        RequireFloat(op, dtype);
        var u = UniformCore(op, key, shape, dtype, Scalar(NextAfterMinusOne(dtype), dtype), Scalar(1, dtype));
        return Lax.Mul(Full(shape, Math.Sqrt(2), dtype), Lax.ErfInv(u));
    }

    /// <summary>
    /// Normal samples truncated to (<paramref name="lower"/>, <paramref name="upper"/>)
    /// (jax.random.truncated_normal): uniform in [erf(lower/√2), erf(upper/√2)), mapped through
    /// √2·erf_inv, then clipped to the open interval. The bounds broadcast to
    /// <paramref name="shape"/> (default: their broadcast shape). float32 or float64.
    /// </summary>
    public static Tensor TruncatedNormal(Key key, Tensor lower, Tensor upper, Shape? shape = null, DType dtype = DType.Float32)
    {
        const string op = "Rng.TruncatedNormal";
        if (dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{op}: dtype must be float32 or float64, got {dtype.Name()}");
        var s = shape ?? Np.BroadcastShapes(op, lower.Shape, upper.Shape);
        var lo = BroadcastBound(op, "lower", lower, s, dtype);
        var hi = BroadcastBound(op, "upper", upper, s, dtype);
        var sqrt2 = Full(s, Math.Sqrt(2), dtype);
        var a = Lax.Erf(Lax.Div(lo, sqrt2));
        var b = Lax.Erf(Lax.Div(hi, sqrt2));
        var u = UniformCore(op, key, s, dtype, a, b);
        var outv = Lax.Mul(sqrt2, Lax.ErfInv(u));
        var min = NextAfter(Transforms.StopGradient(lo), up: true);
        var max = NextAfter(Transforms.StopGradient(hi), up: false);
        return Lax.Min(Lax.Max(outv, min), max);
    }

    /// <summary>Truncated normal samples with scalar bounds, held exactly in <paramref name="dtype"/> (see the tensor overload).</summary>
    public static Tensor TruncatedNormal(Key key, double lower, double upper, Shape? shape = null, DType dtype = DType.Float32)
    {
        if (dtype is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"Rng.TruncatedNormal: dtype must be float32 or float64, got {dtype.Name()}");
        return TruncatedNormal(key, Scalar(lower, dtype), Scalar(upper, dtype), shape, dtype);
    }

    /// <summary>nextafter(x, ±inf) elementwise for float32 / float64.</summary>
    static Tensor NextAfter(Tensor x, bool up)
    {
        if (x.IsConcrete)
        {
            var v = x.ToDoubleArray();
            for (int i = 0; i < v.Length; i++)
                v[i] = x.DType == DType.Float32
                    ? (up ? MathF.BitIncrement((float)v[i]) : MathF.BitDecrement((float)v[i]))
                    : (up ? Math.BitIncrement(v[i]) : Math.BitDecrement(v[i]));
            var t = Tensor.FromArray(v, x.Shape.ToArray());
            return Lax.ConvertElementType(t, x.DType);
        }
        if (!up) return Lax.Neg(NextAfter(Lax.Neg(x), up: true));
        var shape = x.Shape;
        if (x.DType == DType.Float32)
        {
            // Step the bit pattern: +1 for positive values, -1 for negative ones; zeros go to the
            // smallest subnormal; +inf and NaN stay.
            var bits = Lax.BitcastConvertType(x, DType.Int32);
            var zero = Full(shape, 0, DType.Float32);
            var stepped = Lax.Select(Lax.Gt(x, zero), Lax.Add(bits, Full(shape, 1, DType.Int32)), Lax.Sub(bits, Full(shape, 1, DType.Int32)));
            stepped = Lax.Select(Lax.Eq(x, zero), Full(shape, 1, DType.Int32), stepped);
            var r = Lax.BitcastConvertType(stepped, DType.Float32);
            var keep = Lax.Or(Lax.Ne(x, x), Lax.Eq(x, Full(shape, double.PositiveInfinity, DType.Float32)));
            return Lax.Select(keep, x, r);
        }
        // float64 without a 64-bit integer type: x + |x| * (2^-53 + 2^-78) rounds to the next
        // double for every normal x; zeros go to the smallest subnormal. (Subnormal bounds are
        // left unchanged.)
        var z = Full(shape, 0, DType.Float64);
        var step = Lax.Add(x, Lax.Mul(Lax.Abs(x), Full(shape, Math.Pow(2, -53) + Math.Pow(2, -78), DType.Float64)));
        var keep64 = Lax.Or(Lax.Ne(x, x), Lax.Eq(x, Full(shape, double.PositiveInfinity, DType.Float64)));
        step = Lax.Select(Lax.Eq(x, z), Full(shape, double.Epsilon, DType.Float64), step);
        return Lax.Select(keep64, x, step);
    }

    static double Tiny(DType dtype) => dtype switch
    {
        DType.Float32 or DType.BFloat16 => BitConverter.UInt32BitsToSingle(0x00800000),
        DType.Float64 => 2.2250738585072014e-308,
        _ => Math.Pow(2, -14),
    };

    /// <summary>Standard Gumbel samples (jax.random.gumbel): -log(-log(u)), u uniform in [tiny, 1).</summary>
    public static Tensor Gumbel(Key key, Shape shape = default, DType dtype = DType.Float32)
    {
        const string op = "Rng.Gumbel";
        RequireFloat(op, dtype);
        var u = UniformCore(op, key, shape, dtype, Scalar(Tiny(dtype), dtype), Scalar(1, dtype));
        return Lax.Neg(Lax.Log(Lax.Neg(Lax.Log(u))));
    }

    /// <summary>
    /// True with probability <paramref name="p"/> (jax.random.bernoulli): <c>uniform(key, shape,
    /// dtype(p)) &lt; p</c>; p defaults to 0.5 and broadcasts to <paramref name="shape"/>
    /// (default: p's shape). Integer p counts as float32.
    /// </summary>
    public static Tensor Bernoulli(Key key, Tensor? p = null, Shape? shape = null)
    {
        const string op = "Rng.Bernoulli";
        p ??= Tensor.Scalar(0.5, DType.Float32);
        var dtype = p.DType.IsFloat() ? p.DType : DType.Float32;
        var s = shape ?? p.Shape;
        var pp = BroadcastBound(op, "p", p, s, dtype);
        var u = UnitFloatsScaled(op, key, s, dtype);
        return Lax.Lt(u, pp);
    }

    static Tensor UnitFloatsScaled(string op, Key key, Shape shape, DType dtype)
        => UniformCore(op, key, shape, dtype, Scalar(0, dtype), Scalar(1, dtype));

    /// <summary>
    /// Samples category indices from unnormalised log-probabilities (jax.random.categorical, with
    /// replacement): <c>argmax(gumbel + logits)</c> along <paramref name="axis"/>. The result has
    /// <paramref name="shape"/> (default: logits' shape without <paramref name="axis"/>), whose
    /// trailing dimensions must broadcast with that batch shape; int32.
    /// </summary>
    public static Tensor Categorical(Key key, Tensor logits, int axis = -1, Shape? shape = null)
    {
        const string op = "Rng.Categorical";
        if (!logits.DType.IsFloat())
            throw new ArgumentException($"Rng.Categorical: logits must be floating point, got {logits.DType.Name()} of shape {logits.Shape}");
        if (logits.Rank == 0)
            throw new ArgumentException($"Rng.Categorical: logits must have at least one dimension, got shape {logits.Shape}");
        int r = logits.Rank;
        int ax = logits.Shape.Axis(axis, op);
        var batch = logits.Shape.ToArray().Where((_, i) => i != ax).ToArray();
        var s = shape ?? new Shape(batch);
        bool ok = s.Rank >= batch.Length;
        for (int i = 0; ok && i < batch.Length; i++) ok = batch[i] == 1 || batch[i] == s[s.Rank - batch.Length + i];
        if (!ok)
            throw new ArgumentException($"{op}: shape {s} is not compatible with the logits batch shape {Shape.Format(batch)} (logits {logits.Shape}, axis {axis})");
        int prefix = s.Rank - batch.Length;
        var logitsShape = s.ToArray()[prefix..].ToList();
        logitsShape.Insert(ax, logits.Shape[ax]);
        var full = new Shape(s.ToArray()[..prefix].Concat(logitsShape).ToArray());
        var g = Gumbel(key, full, logits.DType);
        var l = prefix == 0 ? logits : Lax.Reshape(logits, new Shape(Enumerable.Repeat(1, prefix).Concat(logits.Shape.ToArray()).ToArray()));
        return Np.Argmax(Np.Add(g, l), axis: ax - r);
    }

    // ------------------------------------------------------------------ integers

    static (long Min, long Max) Range(DType t) => t switch
    {
        DType.Int32 => (int.MinValue, int.MaxValue),
        DType.UInt32 => (0, uint.MaxValue),
        DType.UInt8 => (0, byte.MaxValue),
        _ => (0, 1),
    };

    /// <summary>jnp's _convert_and_clip_integer: clamp into the target range, then convert.</summary>
    static Tensor ConvertAndClip(Tensor v, DType dtype)
    {
        var (a, b) = Range(dtype);
        var (c, d) = Range(v.DType);
        var lo = Np.FullLike(v, Math.Max(a, c));
        var hi = Np.FullLike(v, Math.Min(b, d));
        return Lax.ConvertElementType(Lax.Min(Lax.Max(v, lo), hi), dtype);
    }

    /// <summary>
    /// Uniform integers in [<paramref name="minval"/>, <paramref name="maxval"/>) (jax.random.randint),
    /// with JAX's algorithm: two words of random bits from the two halves of a split, reduced
    /// modulo the span. Bounds are integer tensors (C# ints convert) that broadcast to
    /// <paramref name="shape"/>; maxval above the dtype's range counts as one past its maximum;
    /// where maxval &lt;= minval the result is minval. <paramref name="dtype"/>: int32, uint32 or uint8.
    /// </summary>
    public static Tensor RandInt(Key key, Shape shape, Tensor minval, Tensor maxval, DType dtype = DType.Int32)
    {
        const string op = "Rng.RandInt";
        if (dtype is not (DType.Int32 or DType.UInt32 or DType.UInt8))
            throw new ArgumentException($"{op}: dtype must be int32, uint32 or uint8, got {dtype.Name()}");
        RequireSingle(op, key);
        if (!(minval.DType is DType.Int32 or DType.UInt32 or DType.UInt8)) minval = Lax.ConvertElementType(minval, DType.Int32);
        if (!(maxval.DType is DType.Int32 or DType.UInt32 or DType.UInt8)) maxval = Lax.ConvertElementType(maxval, DType.Int32);
        RequireBroadcastsTo(op, "minval", minval.Shape, shape);
        RequireBroadcastsTo(op, "maxval", maxval.Shape, shape);
        var dtypeMax = Np.BroadcastTo(ConvertAndClip(Tensor.Scalar(Range(dtype).Max, dtype), maxval.DType), maxval.Shape);
        var outOfRange = Lax.Gt(maxval, dtypeMax);
        var lo = Np.BroadcastTo(ConvertAndClip(minval, dtype), shape);
        var hi = Np.BroadcastTo(ConvertAndClip(maxval, dtype), shape);
        outOfRange = Np.BroadcastTo(outOfRange, shape);

        var unsigned = dtype == DType.UInt8 ? DType.UInt8 : DType.UInt32;
        int nbits = dtype == DType.UInt8 ? 8 : 32;
        var ks = Split(key, 2);
        Tensor Rbits(Key k) => nbits == 32 ? Bits32(op, k, shape) : Lax.ConvertElementType(Bits32(op, k, shape), DType.UInt8);
        var higher = Rbits(ks[0]);
        var lower = Rbits(ks[1]);

        var span = Lax.ConvertElementType(Lax.Sub(hi, lo), unsigned);
        span = Lax.Select(Lax.Le(hi, lo), Full(shape, 1, unsigned), span);
        span = Lax.Select(Lax.And(outOfRange, Lax.Gt(hi, lo)), Lax.Add(span, Full(shape, 1, unsigned)), span);
        var multiplier = Lax.Rem(Full(shape, Math.Pow(2, nbits / 2), unsigned), span);
        multiplier = Lax.Rem(Lax.Mul(multiplier, multiplier), span);
        var offset = Lax.Add(Lax.Mul(Lax.Rem(higher, span), multiplier), Lax.Rem(lower, span));
        offset = Lax.Rem(offset, span);
        return Lax.Add(lo, Lax.ConvertElementType(offset, dtype));
    }

    // ------------------------------------------------------------------ permutations and choice

    /// <summary>
    /// Shuffles <paramref name="x"/> along <paramref name="axis"/>, every 1-D slice independently
    /// (jax.random's _shuffle, i.e. permutation with independent=True): rounds of stable sorts by
    /// fresh 32-bit random keys, ceil(3 ln(size) / ln(2^32 - 1)) rounds.
    /// </summary>
    public static Tensor Shuffle(Key key, Tensor x, int axis = 0)
    {
        const string op = "Rng.Shuffle";
        RequireSingle(op, key);
        if (x.Rank == 0) throw new ArgumentException($"{op}: x must have at least one dimension, got shape {x.Shape}");
        int ax = x.Shape.Axis(axis, op);
        int rounds = (int)Math.Ceiling(3 * Math.Log(Math.Max(1, x.Size)) / Math.Log(uint.MaxValue));
        for (int i = 0; i < rounds; i++)
        {
            var ks = Split(key, 2);
            key = ks[0];
            var sortKeys = Bits32(op, ks[1], x.Shape);
            x = Lax.SortKeyVal(sortKeys, x, ax).Values;
        }
        return x;
    }

    /// <summary>A random permutation of 0..n-1, int32 (jax.random.permutation with an integer).</summary>
    public static Tensor Permutation(Key key, int n)
    {
        if (n < 0) throw new ArgumentException($"Rng.Permutation: n must be non-negative, got {n}");
        return Shuffle(key, Np.Arange(n), 0);
    }

    /// <summary>
    /// Permutes <paramref name="x"/> along <paramref name="axis"/> (jax.random.permutation): the
    /// slices move together unless <paramref name="independent"/> (then each 1-D slice is
    /// shuffled on its own).
    /// </summary>
    public static Tensor Permutation(Key key, Tensor x, int axis = 0, bool independent = false)
    {
        const string op = "Rng.Permutation";
        if (x.Rank == 0)
            throw new ArgumentException($"{op}: x must have at least one dimension, got shape {x.Shape} (use Permutation(key, int n) for a permuted range)");
        int ax = x.Shape.Axis(axis, op);
        if (independent || x.Rank == 1) return Shuffle(key, x, ax);
        var ind = Shuffle(key, Np.Arange(x.Shape[ax]), 0);
        return Np.Take(x, ind, ax);
    }

    /// <summary>Samples from 0..n-1 (jax.random.choice with an integer; int32): see the tensor overload.</summary>
    public static Tensor Choice(Key key, int n, Shape shape = default, bool replace = true, Tensor? p = null)
        => ChoiceCore(key, null, n, shape, replace, p, 0);

    /// <summary>
    /// Samples elements of <paramref name="a"/> along <paramref name="axis"/> (jax.random.choice):
    /// with replacement uniformly (RandInt) or by probabilities <paramref name="p"/> (inverse CDF
    /// of the cumulative sum); without replacement by a permutation, or with <paramref name="p"/>
    /// by the Gumbel top-k trick. The result has shape a.shape[:axis] ++ shape ++ a.shape[axis+1:].
    /// </summary>
    public static Tensor Choice(Key key, Tensor a, Shape shape = default, bool replace = true, Tensor? p = null, int axis = 0)
    {
        if (a.Rank == 0)
            throw new ArgumentException($"Rng.Choice: a must have at least one dimension, got shape {a.Shape} (use Choice(key, int n, ...) to sample from a range)");
        return ChoiceCore(key, a, 0, shape, replace, p, a.Shape.Axis(axis, "Rng.Choice"));
    }

    static Tensor ChoiceCore(Key key, Tensor? arr, int n, Shape shape, bool replace, Tensor? p, int axis)
    {
        const string op = "Rng.Choice";
        RequireSingle(op, key);
        int nInputs = arr is null ? n : arr.Shape[axis];
        long nDraws = shape.Size;
        var dtype = arr?.DType ?? DType.Int32;
        Shape outShape = arr is null ? shape
            : new Shape(arr.Shape.ToArray()[..axis].Concat(shape.ToArray()).Concat(arr.Shape.ToArray()[(axis + 1)..]).ToArray());
        if (nDraws == 0) return Np.Zeros(outShape, dtype);
        if (nInputs <= 0) throw new ArgumentException($"{op}: a must be greater than 0 unless no samples are taken, got {nInputs} inputs");
        if (!replace && nDraws > nInputs)
            throw new ArgumentException($"{op}: cannot take a larger sample ({nDraws}, shape {shape}) than the population ({nInputs}) when replace=false");
        Tensor result;
        if (p is null)
        {
            if (replace)
            {
                var ind = RandInt(key, shape, 0, nInputs);
                result = arr is null ? ind : Np.Take(arr, ind, axis);
            }
            else
            {
                var perm = arr is null ? Permutation(key, nInputs) : Permutation(key, arr, axis);
                int r = perm.Rank;
                var start = new int[r];
                var limit = perm.Shape.ToArray();
                limit[axis] = (int)nDraws;
                result = Lax.Slice(perm, start, limit);
            }
        }
        else
        {
            var pa = p.DType.IsFloat() ? p : Lax.ConvertElementType(p, DType.Float32);
            if (pa.Rank != 1 || pa.Shape[0] != nInputs)
                throw new ArgumentException($"{op}: p must have shape ({nInputs}) (the number of inputs), got {p.Shape}");
            Tensor ind;
            if (replace)
            {
                var cum = Lax.Cumsum(pa, 0);
                var total = Lax.Reshape(Lax.SliceInDim(cum, nInputs - 1, nInputs, 1, 0), Shape.Scalar);
                var u = UnitFloatsScaled(op, key, shape, pa.DType);
                var r = Np.Multiply(total, Np.Subtract(Tensor.Scalar(1, pa.DType), u));
                // searchsorted(cum, r, side='left') = number of cumulative sums below r.
                var rr = Lax.Reshape(r, new Shape(shape.ToArray().Append(1).ToArray()));
                ind = Np.Sum(Np.Less(cum, rr), axis: -1, dtype: DType.Int32);
            }
            else
            {
                var g = Np.Add(Gumbel(key, new Shape(nInputs), pa.DType), Lax.Log(pa));
                ind = Lax.TopK(g, (int)nDraws).Indices;
            }
            result = arr is null ? ind : Np.Take(arr, ind, axis);
        }
        return result.Shape == outShape ? result : Lax.Reshape(result, outShape);
    }
}
