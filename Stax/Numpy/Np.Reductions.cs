namespace Stax;

public static partial class Np
{
    // ------------------------------------------------------------------ helpers

    /// <summary>Normalises an axis list (null = all axes; negative axes count from the end) or throws naming <paramref name="op"/>.</summary>
    static int[] NormalizeReduceAxes(string op, Shape shape, int[]? axis)
    {
        if (axis is null) return Enumerable.Range(0, shape.Rank).ToArray();
        var r = new int[axis.Length];
        for (int i = 0; i < axis.Length; i++)
        {
            r[i] = shape.Axis(axis[i], op);
            for (int j = 0; j < i; j++)
                if (r[j] == r[i]) throw new ArgumentException($"{op}: duplicate axis {axis[i]} in axis {Shape.Format(axis)} for shape {shape}");
        }
        Array.Sort(r);
        return r;
    }

    /// <summary>The shape with each reduced axis kept as size 1.</summary>
    static Shape KeepDimsShape(Shape shape, int[] axes)
    {
        var dims = shape.ToArray();
        foreach (var a in axes) dims[a] = 1;
        return new Shape(dims);
    }

    static Tensor MaybeKeepDims(Tensor reduced, Shape input, int[] axes, bool keepdims)
        => keepdims ? Lax.Reshape(reduced, KeepDimsShape(input, axes)) : reduced;

    /// <summary>Broadcasts a reduced tensor (axes dropped) back to <paramref name="shape"/>.</summary>
    static Tensor BroadcastReduced(Tensor reduced, Shape shape, int[] axes)
    {
        var kept = Enumerable.Range(0, shape.Rank).Where(d => !axes.Contains(d)).ToArray();
        return Lax.BroadcastInDim(reduced, shape, kept);
    }

    static long ReducedCount(Shape shape, int[] axes)
    {
        long n = 1;
        foreach (var a in axes) n *= shape[a];
        return n;
    }

    /// <summary>The accumulation dtype of sum/prod/cumsum like jnp: bool → int32, uint8 → uint32, others unchanged.</summary>
    static DType SumDType(DType t) => t switch
    {
        DType.Bool => DType.Int32,
        DType.UInt8 => DType.UInt32,
        _ => t,
    };

    /// <summary>
    /// Stops gradients through the shift of the numerically stable log-sum-exp / softmax. The result
    /// of those functions does not depend on the shift, so its derivative cancels exactly; this
    /// becomes the stop_gradient primitive once the tracing layer provides one.
    /// </summary>
    static Tensor StopGradient(Tensor x) => Transforms.StopGradient(x);

    static Tensor ScalarLike(double value, Tensor like) => Lax.BroadcastInDim(Tensor.Scalar(value, like.DType), like.Shape);

    // ------------------------------------------------------------------ sum, prod, mean, var, std

    /// <summary>Sum over <paramref name="axis"/> (null: all axes). bool sums to int32 and uint8 to uint32, as jnp.sum;
    /// <paramref name="dtype"/> converts first.</summary>
    public static Tensor Sum(Tensor x, int[]? axis = null, bool keepdims = false, DType? dtype = null)
    {
        var axes = NormalizeReduceAxes("sum", x.Shape, axis);
        var xt = Lax.ConvertElementType(x, dtype ?? SumDType(x.DType), x.IsWeak);
        return MaybeKeepDims(Lax.ReduceSum(xt, axes), x.Shape, axes, keepdims);
    }

    /// <summary>Sum over one axis.</summary>
    public static Tensor Sum(Tensor x, int axis, bool keepdims = false, DType? dtype = null) => Sum(x, new[] { axis }, keepdims, dtype);

    /// <summary>Product over <paramref name="axis"/> (null: all axes); dtype rules as <see cref="Sum(Tensor, int[], bool, DType?)"/>.</summary>
    public static Tensor Prod(Tensor x, int[]? axis = null, bool keepdims = false, DType? dtype = null)
    {
        var axes = NormalizeReduceAxes("prod", x.Shape, axis);
        var xt = Lax.ConvertElementType(x, dtype ?? SumDType(x.DType), x.IsWeak);
        return MaybeKeepDims(Lax.ReduceProd(xt, axes), x.Shape, axes, keepdims);
    }

    /// <summary>Product over one axis.</summary>
    public static Tensor Prod(Tensor x, int axis, bool keepdims = false, DType? dtype = null) => Prod(x, new[] { axis }, keepdims, dtype);

    /// <summary>Mean over <paramref name="axis"/>; integers and bool give float32, float16/bfloat16 are accumulated in float32.
    /// The mean of an empty reduction is NaN.</summary>
    public static Tensor Mean(Tensor x, int[]? axis = null, bool keepdims = false)
    {
        var axes = NormalizeReduceAxes("mean", x.Shape, axis);
        var outType = x.DType.IsFloat() ? x.DType : DType.Float32;
        var work = outType is DType.Float16 or DType.BFloat16 ? DType.Float32 : outType;
        var s = Lax.ReduceSum(Lax.ConvertElementType(x, work, x.IsWeak), axes);
        var m = Lax.Div(s, ScalarLike(ReducedCount(x.Shape, axes), s));
        return MaybeKeepDims(Lax.ConvertElementType(m, outType, x.IsWeak), x.Shape, axes, keepdims);
    }

    /// <summary>Mean over one axis.</summary>
    public static Tensor Mean(Tensor x, int axis, bool keepdims = false) => Mean(x, new[] { axis }, keepdims);

    /// <summary>Variance over <paramref name="axis"/>: the mean squared deviation, divided by N - <paramref name="ddof"/>
    /// (at least 0, so too few elements give inf or NaN as in NumPy).</summary>
    public static Tensor Var(Tensor x, int[]? axis = null, int ddof = 0, bool keepdims = false)
    {
        var axes = NormalizeReduceAxes("var", x.Shape, axis);
        var outType = x.DType.IsFloat() ? x.DType : DType.Float32;
        var work = outType is DType.Float16 or DType.BFloat16 ? DType.Float32 : outType;
        var xf = Lax.ConvertElementType(x, work, x.IsWeak);
        long n = ReducedCount(x.Shape, axes);
        var sum = Lax.ReduceSum(xf, axes);
        var mean = Lax.Div(sum, ScalarLike(n, sum));
        var centered = Lax.Sub(xf, BroadcastReduced(mean, x.Shape, axes));
        var ss = Lax.ReduceSum(Lax.Mul(centered, centered), axes);
        var v = Lax.Div(ss, ScalarLike(Math.Max(0, n - ddof), ss));
        return MaybeKeepDims(Lax.ConvertElementType(v, outType, x.IsWeak), x.Shape, axes, keepdims);
    }

    /// <summary>Variance over one axis.</summary>
    public static Tensor Var(Tensor x, int axis, int ddof = 0, bool keepdims = false) => Var(x, new[] { axis }, ddof, keepdims);

    /// <summary>Standard deviation: sqrt of <see cref="Var(Tensor, int[], int, bool)"/>.</summary>
    public static Tensor Std(Tensor x, int[]? axis = null, int ddof = 0, bool keepdims = false) => Lax.Sqrt(Var(x, axis, ddof, keepdims));

    /// <summary>Standard deviation over one axis.</summary>
    public static Tensor Std(Tensor x, int axis, int ddof = 0, bool keepdims = false) => Std(x, new[] { axis }, ddof, keepdims);

    // ------------------------------------------------------------------ max, min, all, any

    static Tensor MaxMin(string op, bool isMax, Tensor x, int[]? axis, bool keepdims)
    {
        var axes = NormalizeReduceAxes(op, x.Shape, axis);
        long kept = 1;
        for (int d = 0; d < x.Rank; d++) if (!axes.Contains(d)) kept *= x.Shape[d];
        if (ReducedCount(x.Shape, axes) == 0 && kept > 0 && axes.Length > 0)
            throw new ArgumentException($"{op}: zero-size reduction over axes {Shape.Format(axes)} of shape {x.Shape} has no identity");
        var r = isMax ? Lax.ReduceMax(x, axes) : Lax.ReduceMin(x, axes);
        return MaybeKeepDims(r, x.Shape, axes, keepdims);
    }

    /// <summary>Maximum over <paramref name="axis"/> (null: all axes); NaN propagates. An empty reduction throws, as in NumPy.</summary>
    public static Tensor Max(Tensor x, int[]? axis = null, bool keepdims = false) => MaxMin("max", true, x, axis, keepdims);
    /// <summary>Maximum over one axis.</summary>
    public static Tensor Max(Tensor x, int axis, bool keepdims = false) => Max(x, new[] { axis }, keepdims);
    /// <summary>Alias of <see cref="Max(Tensor, int[], bool)"/>.</summary>
    public static Tensor Amax(Tensor x, int[]? axis = null, bool keepdims = false) => MaxMin("amax", true, x, axis, keepdims);
    /// <summary>Minimum over <paramref name="axis"/> (null: all axes); NaN propagates. An empty reduction throws.</summary>
    public static Tensor Min(Tensor x, int[]? axis = null, bool keepdims = false) => MaxMin("min", false, x, axis, keepdims);
    /// <summary>Minimum over one axis.</summary>
    public static Tensor Min(Tensor x, int axis, bool keepdims = false) => Min(x, new[] { axis }, keepdims);
    /// <summary>Alias of <see cref="Min(Tensor, int[], bool)"/>.</summary>
    public static Tensor Amin(Tensor x, int[]? axis = null, bool keepdims = false) => MaxMin("amin", false, x, axis, keepdims);

    /// <summary>True where every element over <paramref name="axis"/> is nonzero (NaN counts as nonzero); true when empty.</summary>
    public static Tensor All(Tensor x, int[]? axis = null, bool keepdims = false)
    {
        var axes = NormalizeReduceAxes("all", x.Shape, axis);
        return MaybeKeepDims(Lax.ReduceMin(Lax.ConvertElementType(x, DType.Bool), axes), x.Shape, axes, keepdims);
    }

    /// <summary>All over one axis.</summary>
    public static Tensor All(Tensor x, int axis, bool keepdims = false) => All(x, new[] { axis }, keepdims);

    /// <summary>True where some element over <paramref name="axis"/> is nonzero; false when empty.</summary>
    public static Tensor Any(Tensor x, int[]? axis = null, bool keepdims = false)
    {
        var axes = NormalizeReduceAxes("any", x.Shape, axis);
        return MaybeKeepDims(Lax.ReduceMax(Lax.ConvertElementType(x, DType.Bool), axes), x.Shape, axes, keepdims);
    }

    /// <summary>Any over one axis.</summary>
    public static Tensor Any(Tensor x, int axis, bool keepdims = false) => Any(x, new[] { axis }, keepdims);

    // ------------------------------------------------------------------ argmax, argmin

    static Tensor ArgMaxMin(string op, bool isMax, Tensor x, int? axis, bool keepdims)
    {
        if (axis is null)
        {
            if (x.Size == 0) throw new ArgumentException($"{op}: attempt to get {op} of an empty sequence (shape {x.Shape})");
            var flat = Lax.Reshape(x, new Shape(checked((int)x.Size)));
            var r = isMax ? Lax.Argmax(flat, 0) : Lax.Argmin(flat, 0);
            return keepdims ? Lax.Reshape(r, new Shape(Enumerable.Repeat(1, x.Rank).ToArray())) : r;
        }
        int a = x.Shape.Axis(axis.Value, op);
        if (x.Shape[a] == 0) throw new ArgumentException($"{op}: attempt to get {op} of an empty sequence (axis {axis} of shape {x.Shape})");
        var res = isMax ? Lax.Argmax(x, a) : Lax.Argmin(x, a);
        return MaybeKeepDims(res, x.Shape, new[] { a }, keepdims);
    }

    /// <summary>int32 index of the maximum along <paramref name="axis"/> (null: of the flattened tensor); first on ties, the first NaN wins.</summary>
    public static Tensor Argmax(Tensor x, int? axis = null, bool keepdims = false) => ArgMaxMin("argmax", true, x, axis, keepdims);
    /// <summary>int32 index of the minimum along <paramref name="axis"/> (null: of the flattened tensor); first on ties, the first NaN wins.</summary>
    public static Tensor Argmin(Tensor x, int? axis = null, bool keepdims = false) => ArgMaxMin("argmin", false, x, axis, keepdims);

    // ------------------------------------------------------------------ cumulative

    static Tensor Cumulative(string op, Func<Tensor, int, bool, Tensor> f, Tensor x, int? axis, DType? dtype)
    {
        var xt = Lax.ConvertElementType(x, dtype ?? SumDType(x.DType), x.IsWeak);
        if (axis is null) return f(Lax.Reshape(xt, new Shape(checked((int)x.Size))), 0, false);
        return f(xt, x.Shape.Axis(axis.Value, op), false);
    }

    /// <summary>Inclusive cumulative sum along <paramref name="axis"/> (null: of the flattened tensor); bool → int32, uint8 → uint32.</summary>
    public static Tensor CumSum(Tensor x, int? axis = null, DType? dtype = null) => Cumulative("cumsum", (t, a, r) => Lax.Cumsum(t, a, r), x, axis, dtype);
    /// <summary>Inclusive cumulative product along <paramref name="axis"/> (null: of the flattened tensor).</summary>
    public static Tensor CumProd(Tensor x, int? axis = null, DType? dtype = null) => Cumulative("cumprod", (t, a, r) => Lax.Cumprod(t, a, r), x, axis, dtype);

    // ------------------------------------------------------------------ log-sum-exp, softmax, one-hot

    // The three functions below carry custom JVPs (Transforms.CustomJvp), as jax.nn.softmax does:
    // their derivatives are written in terms of the (stable) outputs, so differentiation never sees
    // the max-shift, the tangent programs stay small, and -inf entries give zero weight instead of
    // NaN. The functions are cached per static configuration (axes), their programs per input type.
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<Tensor, Tensor>> CustomFns = new();

    static Tensor LogSumExpForward(Tensor xf, int[] axes)
    {
        var m = Lax.ReduceMax(xf, axes);
        m = StopGradient(Lax.Select(Lax.IsFinite(m), m, ScalarLike(0, m)));
        var s = Lax.ReduceSum(Lax.Exp(Lax.Sub(xf, BroadcastReduced(m, xf.Shape, axes))), axes);
        return Lax.Add(Lax.Log(s), m);
    }

    static Func<Tensor, Tensor> LogSumExpFn(int[] axes) => CustomFns.GetOrAdd("logsumexp:" + string.Join(",", axes), _ =>
    {
        Func<Tensor, Tensor>? self = null;
        self = Transforms.CustomJvp(x => LogSumExpForward(x, axes), (x, t) =>
        {
            // d lse = sum(t * softmax(x)): linear in t. The weights come from the shifted softmax,
            // exact for huge inputs ([1000, 1000] gives [0.5, 0.5]) and 0 for -inf entries.
            var y = self!(x);
            return (y, Lax.ReduceSum(Lax.Mul(t, SoftmaxFn(axes)(x)), axes));
        }, "logsumexp");
        return self;
    });

    /// <summary>
    /// log(sum(exp(x))) over <paramref name="axis"/>, computed stably: the maximum is subtracted
    /// first, and replaced by 0 where it is not finite, so rows of -inf give -inf and rows containing
    /// +inf give +inf. Integers are promoted to float32. The derivative is a custom JVP,
    /// <c>sum(t * exp(x - logsumexp(x)))</c>, so gradients are softmax weights even for huge inputs
    /// (the gradient at [1000, 1000] is [0.5, 0.5]) and -inf entries get weight 0.
    /// </summary>
    public static Tensor LogSumExp(Tensor x, int[]? axis = null, bool keepdims = false)
    {
        var axes = NormalizeReduceAxes("logsumexp", x.Shape, axis);
        var xf = ToFloat(x);
        return MaybeKeepDims(LogSumExpFn(axes)(xf), x.Shape, axes, keepdims);
    }

    /// <summary>LogSumExp over one axis.</summary>
    public static Tensor LogSumExp(Tensor x, int axis, bool keepdims = false) => LogSumExp(x, new[] { axis }, keepdims);

    static Func<Tensor, Tensor> SoftmaxFn(int[] axes) => CustomFns.GetOrAdd("softmax:" + string.Join(",", axes), _ =>
    {
        Func<Tensor, Tensor>? self = null;
        self = Transforms.CustomJvp(xf =>
        {
            var m = StopGradient(Lax.ReduceMax(xf, axes));
            var e = Lax.Exp(Lax.Sub(xf, BroadcastReduced(m, xf.Shape, axes)));
            return Lax.Div(e, BroadcastReduced(Lax.ReduceSum(e, axes), xf.Shape, axes));
        }, (x, t) =>
        {
            // jax.nn.softmax's rule: y * (t - sum(y * t)).
            var y = self!(x);
            var s = Lax.ReduceSum(Lax.Mul(y, t), axes);
            return (y, Lax.Mul(y, Lax.Sub(t, BroadcastReduced(s, x.Shape, axes))));
        }, "softmax");
        return self;
    });

    /// <summary>exp(x) / sum(exp(x)) along <paramref name="axis"/> (default: last), shifted by the maximum
    /// (as jax.nn.softmax; a row of only -inf gives NaN). Differentiated by a custom JVP,
    /// <c>y * (t - sum(y * t))</c>, as jax.nn.softmax.</summary>
    public static Tensor Softmax(Tensor x, int axis = -1)
    {
        int a = x.Shape.Axis(axis, "softmax");
        return SoftmaxFn(new[] { a })(ToFloat(x));
    }

    static Func<Tensor, Tensor> LogSoftmaxFn(int a) => CustomFns.GetOrAdd("log_softmax:" + a, _ =>
    {
        var axes = new[] { a };
        Func<Tensor, Tensor>? self = null;
        self = Transforms.CustomJvp(xf =>
        {
            var m = StopGradient(Lax.ReduceMax(xf, axes));
            var shifted = Lax.Sub(xf, BroadcastReduced(m, xf.Shape, axes));
            var lse = Lax.Log(Lax.ReduceSum(Lax.Exp(shifted), axes));
            return Lax.Sub(shifted, BroadcastReduced(lse, xf.Shape, axes));
        }, (x, t) =>
        {
            // t - sum(t * softmax(x)): linear in t.
            var y = self!(x);
            var s = Lax.ReduceSum(Lax.Mul(t, SoftmaxFn(axes)(x)), axes);
            return (y, Lax.Sub(t, BroadcastReduced(s, x.Shape, axes)));
        }, "log_softmax");
        return self;
    });

    /// <summary>x - logsumexp(x) along <paramref name="axis"/> (default: last), computed stably as jax.nn.log_softmax,
    /// differentiated by a custom JVP <c>t - sum(t * softmax(x))</c>.</summary>
    public static Tensor LogSoftmax(Tensor x, int axis = -1)
    {
        int a = x.Shape.Axis(axis, "log_softmax");
        return LogSoftmaxFn(a)(ToFloat(x));
    }

    /// <summary>
    /// One-hot encoding: appends an axis of <paramref name="numClasses"/> where position
    /// <c>labels[...]</c> is 1 (compared with an iota); labels outside [0, numClasses) give all zeros.
    /// </summary>
    public static Tensor OneHot(Tensor labels, int numClasses, DType dtype = DType.Float32)
    {
        if (numClasses < 0) throw new ArgumentException($"one_hot: numClasses must be non-negative, got {numClasses}");
        var lab = labels.DType == DType.Bool ? Lax.ConvertElementType(labels, DType.Int32) : labels.WithWeak(false);
        var dims = lab.Shape.ToArray().Append(numClasses).ToArray();
        var shape = new Shape(dims);
        var b = Lax.BroadcastInDim(lab, shape, Enumerable.Range(0, lab.Rank).ToArray());
        var classes = Lax.Iota(lab.DType, shape, lab.Rank);
        return Lax.ConvertElementType(Lax.Eq(b, classes), dtype);
    }
}
