using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    /// <summary>Operand axes after a batch dimension was inserted at <paramref name="d"/>.</summary>
    static int[] MovementShiftAxes(IntTuple axes, int d) => axes.ToArray().Select(a => a >= d ? a + 1 : a).ToArray();

    static int[] MovementInsert(IntTuple values, int at, int value)
    {
        var l = values.ToArray().ToList();
        l.Insert(at, value);
        return l.ToArray();
    }

    static partial void RegisterSlicing()
    {
        RegisterMoveTranspose();
        RegisterMoveSlice();
        RegisterMovePad();
        RegisterMoveConcatenate();
        RegisterMoveRev();
        RegisterMoveDynamicSlice();
        RegisterMoveDynamicUpdateSlice();
    }

    static void RegisterMoveTranspose()
    {
        var tr = Prims.Transpose;
        tr.Jvp = (xs, ts, ps) => One(tr.Bind1(ps, xs[0]), ts[0] is { } t ? tr.Bind1(ps, t) : null);
        tr.Transpose = (cts, a, ps) =>
        {
            if (cts[0] is not { } c) return new Tensor?[1];
            var perm = ((TransposeParams)ps).Permutation;
            var inv = new int[perm.Length];
            for (int i = 0; i < perm.Length; i++) inv[perm[i]] = i;
            return new[] { Lax.Transpose(c, inv) };
        };
        tr.Batch = (ctx, xs, ds, ps) =>
        {
            int d = ds[0]!.Value;
            var perm = ((TransposeParams)ps).Permutation;
            // The batch dimension goes first; the others follow the permutation, shifted past it.
            var np = new int[perm.Length + 1];
            np[0] = d;
            for (int i = 0; i < perm.Length; i++) np[i + 1] = perm[i] >= d ? perm[i] + 1 : perm[i];
            return (new[] { Lax.Transpose(xs[0], np) }, new int?[] { 0 });
        };
    }

    static void RegisterMoveSlice()
    {
        var sl = Prims.Slice;
        sl.Jvp = (xs, ts, ps) => One(sl.Bind1(ps, xs[0]), ts[0] is { } t ? sl.Bind1(ps, t) : null);
        sl.Transpose = (cts, a, ps) =>
        {
            if (cts[0] is not { } c) return new Tensor?[1];
            var p = (SliceParams)ps;
            var shape = a[0].Aval.Shape;
            // Scatter the cotangent back by padding with zeros: low = start, interior = stride - 1,
            // high = what lies after the last selected element.
            var cfg = new (int, int, int)[shape.Rank];
            for (int d = 0; d < shape.Rank; d++)
            {
                int n = c.Shape[d];
                int realLimit = n == 0 ? p.StartIndices[d] : p.StartIndices[d] + (n - 1) * p.Strides[d] + 1;
                cfg[d] = (p.StartIndices[d], shape[d] - realLimit, p.Strides[d] - 1);
            }
            return new[] { Lax.Pad(c, Tensor.Scalar(0, c.DType), cfg) };
        };
        sl.Batch = (ctx, xs, ds, ps) =>
        {
            int d = ds[0]!.Value;
            var p = (SliceParams)ps;
            var np = new SliceParams(MovementInsert(p.StartIndices, d, 0), MovementInsert(p.LimitIndices, d, ctx.AxisSize), MovementInsert(p.Strides, d, 1));
            return (new[] { sl.Bind1(np, xs[0]) }, new int?[] { d });
        };
    }

    static void RegisterMovePad()
    {
        var pad = Prims.Pad;
        pad.Jvp = (xs, ts, ps) =>
        {
            var y = pad.Bind1(ps, xs[0], xs[1]);
            if (ts[0] is null && ts[1] is null) return One(y, null);
            return One(y, pad.Bind1(ps, ts[0] ?? Zeros(xs[0]), ts[1] ?? Zeros(xs[1])));
        };
        pad.Transpose = (cts, a, ps) =>
        {
            if (cts[0] is not { } c) return new Tensor?[2];
            var p = (PadParams)ps;
            int rank = a[0].Aval.Rank;
            // Undo low/high (negative padding crops, so it pads zeros back), then take every
            // (interior + 1)-th element.
            var unpad = new (int, int, int)[rank];
            for (int d = 0; d < rank; d++) unpad[d] = (-p.Low[d], -p.High[d], 0);
            var unpadded = Lax.Pad(c, Tensor.Scalar(0, c.DType), unpad);
            var tOperand = Lax.Slice(unpadded, new int[rank], unpadded.Shape.ToArray(), p.Interior.ToArray().Select(i => i + 1).ToArray());
            Tensor? tValue = null;
            if (a[1].IsLinear)
            {
                // Every output position that is not an operand element holds the padding value.
                var all = Enumerable.Range(0, rank).ToArray();
                tValue = Lax.Sub(Lax.ReduceSum(c, all), Lax.ReduceSum(tOperand, all));
            }
            return new[] { a[0].IsLinear ? tOperand : null, tValue };
        };
        pad.Batch = (ctx, xs, ds, ps) =>
        {
            var p = (PadParams)ps;
            if (ds[1] is null)
            {
                int d = ds[0]!.Value;
                var np = new PadParams(MovementInsert(p.Low, d, 0), MovementInsert(p.High, d, 0), MovementInsert(p.Interior, d, 0));
                return (new[] { pad.Bind1(np, xs[0], xs[1]) }, new int?[] { d });
            }
            // A batched padding value: pad with zeros, then select the padding value wherever a
            // padded mask (true on operand elements) is false.
            var x = BatchRules.ToFront(xs[0], ds[0], ctx.AxisSize);
            var cfg = new PadParams(MovementInsert(p.Low, 0, 0), MovementInsert(p.High, 0, 0), MovementInsert(p.Interior, 0, 0));
            var padded = pad.Bind1(cfg, x, Tensor.Scalar(0, x.DType));
            var mask = pad.Bind1(cfg, Lax.BroadcastInDim(Tensor.Scalar(1, DType.Bool), x.Shape), Tensor.Scalar(0, DType.Bool));
            var v = Lax.BroadcastInDim(xs[1], padded.Shape, 0);
            return (new[] { Lax.Select(mask, padded, v) }, new int?[] { 0 });
        };
    }

    static void RegisterMoveConcatenate()
    {
        var cat = Prims.Concatenate;
        cat.Jvp = (xs, ts, ps) =>
        {
            var y = cat.Bind1(ps, xs);
            if (ts.All(t => t is null)) return One(y, null);
            return One(y, cat.Bind1(ps, ts.Select((t, i) => t ?? Zeros(xs[i])).ToArray()));
        };
        cat.Transpose = (cts, a, ps) =>
        {
            var res = new Tensor?[a.Length];
            if (cts[0] is not { } c) return res;
            int dim = ((ConcatenateParams)ps).Dimension;
            int offset = 0;
            for (int i = 0; i < a.Length; i++)
            {
                int n = a[i].Aval.Shape[dim];
                if (a[i].IsLinear)
                {
                    var start = new int[c.Rank];
                    var limit = c.Shape.ToArray();
                    start[dim] = offset;
                    limit[dim] = offset + n;
                    res[i] = Lax.Slice(c, start, limit);
                }
                offset += n;
            }
            return res;
        };
        cat.Batch = (ctx, xs, ds, ps) =>
        {
            int dim = ((ConcatenateParams)ps).Dimension;
            var (args, d) = BatchRules.Align(xs, ds, ctx.AxisSize);
            return (new[] { cat.Bind1(new ConcatenateParams(dim >= d ? dim + 1 : dim), args) }, new int?[] { d });
        };
    }

    static void RegisterMoveRev()
    {
        var rev = Prims.Rev;
        rev.Jvp = (xs, ts, ps) => One(rev.Bind1(ps, xs[0]), ts[0] is { } t ? rev.Bind1(ps, t) : null);
        rev.Transpose = (cts, a, ps) => new[] { cts[0] is { } c ? rev.Bind1(ps, c) : null };
        rev.Batch = (ctx, xs, ds, ps) =>
        {
            int d = ds[0]!.Value;
            return (new[] { rev.Bind1(new RevParams(MovementShiftAxes(((RevParams)ps).Dimensions, d)), xs[0]) }, new int?[] { d });
        };
    }

    /// <summary>Batched scalar start indices as one [batch, n] index array (for gather/scatter).</summary>
    static Tensor MovementStackIndices(Tensor[] idx, int?[] dims, int size)
    {
        var dtype = idx.All(i => i.DType is DType.UInt32 or DType.UInt8) ? DType.UInt32 : DType.Int32;
        var cols = idx.Select((t, i) =>
            Lax.Reshape(Lax.ConvertElementType(BatchRules.ToFront(t, dims[i], size), dtype), new Shape(size, 1))).ToArray();
        return cols.Length == 1 ? cols[0] : Lax.Concatenate(cols, 1);
    }

    static void RegisterMoveDynamicSlice()
    {
        var ds = Prims.DynamicSlice;
        ds.Jvp = (xs, ts, ps) =>
        {
            var y = ds.Bind1(ps, xs);
            if (ts[0] is not { } t) return One(y, null);
            var args = (Tensor[])xs.Clone();
            args[0] = t;
            return One(y, ds.Bind1(ps, args));
        };
        ds.Transpose = (cts, a, ps) =>
        {
            var res = new Tensor?[a.Length];
            if (!a[0].IsLinear || cts[0] is not { } c) return res;
            if (a.Skip(1).Any(x => x.IsLinear)) throw new InvalidOperationException("dynamic_slice: start indices cannot be linear");
            var idx = a.Skip(1).Select(x => x.Known).ToArray();
            res[0] = Prims.DynamicUpdateSlice.Bind1(Params.None, new[] { ZerosOf(a[0].Aval), c }.Concat(idx).ToArray()); // starts already wrapped
            return res;
        };
        ds.Batch = (ctx, xs, dims, ps) =>
        {
            var sizes = ((DynamicSliceParams)ps).SliceSizes;
            int r = sizes.Length;
            int B = ctx.AxisSize;
            if (dims.Skip(1).All(d => d is null))
            {
                // Only the operand is batched: slice the whole batch dimension, starting at 0.
                int d = dims[0]!.Value;
                var args = xs.ToList();
                args.Insert(1 + d, Tensor.Scalar(0, DType.Int32));
                return (new[] { ds.Bind1(new DynamicSliceParams(MovementInsert(sizes, d, B)), args.ToArray()) }, new int?[] { d });
            }
            // Batched start indices: a gather with one index vector per batch element. Clip mode
            // clamps each start so that the slice stays in bounds, which is dynamic_slice's rule.
            var indices = MovementStackIndices(xs[1..], dims[1..], B);
            var offsetDims = Enumerable.Range(1, r).ToArray();
            if (dims[0] is null)
            {
                var dn = new GatherDimensionNumbers(offsetDims, Array.Empty<int>(), Enumerable.Range(0, r).ToArray());
                return (new[] { Lax.Gather(xs[0], indices, dn, sizes.ToArray(), mode: GatherScatterMode.Clip) }, new int?[] { 0 });
            }
            var x = BatchRules.ToFront(xs[0], dims[0], B);
            var dnb = new GatherDimensionNumbers(offsetDims, Array.Empty<int>(), Enumerable.Range(1, r).ToArray(),
                new[] { 0 }, new[] { 0 });
            return (new[] { Lax.Gather(x, indices, dnb, MovementInsert(sizes, 0, 1), mode: GatherScatterMode.Clip) }, new int?[] { 0 });
        };
    }

    static void RegisterMoveDynamicUpdateSlice()
    {
        var dus = Prims.DynamicUpdateSlice;
        dus.Jvp = (xs, ts, ps) =>
        {
            var y = dus.Bind1(ps, xs);
            if (ts[0] is null && ts[1] is null) return One(y, null);
            var args = (Tensor[])xs.Clone();
            args[0] = ts[0] ?? Zeros(xs[0]);
            args[1] = ts[1] ?? Zeros(xs[1]);
            return One(y, dus.Bind1(ps, args));
        };
        dus.Transpose = (cts, a, ps) =>
        {
            var res = new Tensor?[a.Length];
            if (cts[0] is not { } c) return res;
            if (a.Skip(2).Any(x => x.IsLinear)) throw new InvalidOperationException("dynamic_update_slice: start indices cannot be linear");
            var idx = a.Skip(2).Select(x => x.Known).ToArray();
            if (a[0].IsLinear) res[0] = Prims.DynamicUpdateSlice.Bind1(Params.None, new[] { c, ZerosOf(a[1].Aval) }.Concat(idx).ToArray());
            if (a[1].IsLinear) res[1] = Prims.DynamicSlice.Bind1(new DynamicSliceParams(a[1].Aval.Shape.ToArray()), new[] { c }.Concat(idx).ToArray());
            return res;
        };
        dus.Batch = (ctx, xs, dims, ps) =>
        {
            int B = ctx.AxisSize;
            var x = BatchRules.ToFront(xs[0], dims[0], B);
            var u = BatchRules.ToFront(xs[1], dims[1], B);
            int r = xs[0].Rank - (dims[0] is null ? 0 : 1);
            if (dims.Skip(2).All(d => d is null))
            {
                var args = new List<Tensor> { x, u, Tensor.Scalar(0, DType.Int32) };
                args.AddRange(xs[2..]);
                return (new[] { dus.Bind1(ps, args.ToArray()) }, new int?[] { 0 });
            }
            // Batched start indices: a scatter with one index vector per batch element (Clip mode
            // clamps the window into bounds, as dynamic_update_slice does).
            var indices = MovementStackIndices(xs[2..], dims[2..], B);
            var dn = new ScatterDimensionNumbers(Enumerable.Range(1, r).ToArray(), Array.Empty<int>(), Enumerable.Range(1, r).ToArray(),
                new[] { 0 }, new[] { 0 });
            return (new[] { Lax.Scatter(x, indices, u, dn, mode: GatherScatterMode.Clip) }, new int?[] { 0 });
        };
    }
}
