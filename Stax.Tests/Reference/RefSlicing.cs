namespace Stax.Tests.Reference;

// Naive reference rules for transpose, slice, pad, concatenate, rev and the dynamic slices:
// loop over every output element, compute its multi-index, and read the input it comes from.
public static partial class Ref
{
    static partial void RegisterSlicing()
    {
        Rules[Prims.Transpose] = (p, x, o) =>
        {
            var perm = ((TransposeParams)p).Permutation;
            var r = New(o[0]);
            var outShape = o[0].Shape.ToArray();
            var inIdx = new int[x[0].Rank];
            for (long i = 0; i < r.Size; i++)
            {
                var idx = Unravel(i, outShape);
                for (int d = 0; d < idx.Length; d++) inIdx[perm[d]] = idx[d];
                r.Data[i] = x[0].Data[Ravel(inIdx, x[0].Shape)];
            }
            return new[] { r };
        };

        Rules[Prims.Slice] = (p, x, o) =>
        {
            var sp = (SliceParams)p;
            var r = New(o[0]);
            var outShape = o[0].Shape.ToArray();
            var inIdx = new int[x[0].Rank];
            for (long i = 0; i < r.Size; i++)
            {
                var idx = Unravel(i, outShape);
                for (int d = 0; d < idx.Length; d++) inIdx[d] = sp.StartIndices[d] + idx[d] * sp.Strides[d];
                r.Data[i] = x[0].Data[Ravel(inIdx, x[0].Shape)];
            }
            return new[] { r };
        };

        Rules[Prims.Rev] = (p, x, o) =>
        {
            var dims = ((RevParams)p).Dimensions;
            var r = New(o[0]);
            var shape = x[0].Shape;
            for (long i = 0; i < r.Size; i++)
            {
                var idx = Unravel(i, shape);
                foreach (var d in dims.Span) idx[d] = shape[d] - 1 - idx[d];
                r.Data[i] = x[0].Data[Ravel(idx, shape)];
            }
            return new[] { r };
        };

        // Pad: every output position starts as the padding value; each input element is written
        // where it lands (low + i * (interior + 1)) if that is inside the output.
        Rules[Prims.Pad] = (p, x, o) =>
        {
            var pp = (PadParams)p;
            var r = New(o[0]);
            var outShape = o[0].Shape.ToArray();
            for (long i = 0; i < r.Size; i++) r.Data[i] = x[1].Data[0];
            var inShape = x[0].Shape;
            var pos = new int[inShape.Length];
            for (long i = 0; i < x[0].Size; i++)
            {
                var idx = Unravel(i, inShape);
                bool inside = true;
                for (int d = 0; d < idx.Length; d++)
                {
                    long q = pp.Low[d] + (long)idx[d] * (pp.Interior[d] + 1);
                    if (q < 0 || q >= outShape[d]) { inside = false; break; }
                    pos[d] = (int)q;
                }
                if (inside) r.Data[Ravel(pos, outShape)] = x[0].Data[i];
            }
            return new[] { r };
        };

        Rules[Prims.Concatenate] = (p, x, o) =>
        {
            int dim = ((ConcatenateParams)p).Dimension;
            var r = New(o[0]);
            var outShape = o[0].Shape.ToArray();
            int offset = 0;
            foreach (var a in x)
            {
                for (long i = 0; i < a.Size; i++)
                {
                    var idx = Unravel(i, a.Shape);
                    idx[dim] += offset;
                    r.Data[Ravel(idx, outShape)] = a.Data[i];
                }
                offset += a.Shape[dim];
            }
            return new[] { r };
        };

        Rules[Prims.DynamicSlice] = (p, x, o) =>
        {
            var r = New(o[0]);
            var outShape = o[0].Shape.ToArray();
            var shape = x[0].Shape;
            var start = new long[shape.Length];
            for (int d = 0; d < shape.Length; d++)
                start[d] = Math.Min(Math.Max((long)x[1 + d].Data[0], 0), shape[d] - outShape[d]);
            var inIdx = new int[shape.Length];
            for (long i = 0; i < r.Size; i++)
            {
                var idx = Unravel(i, outShape);
                for (int d = 0; d < idx.Length; d++) inIdx[d] = (int)(start[d] + idx[d]);
                r.Data[i] = x[0].Data[Ravel(inIdx, shape)];
            }
            return new[] { r };
        };

        Rules[Prims.DynamicUpdateSlice] = (p, x, o) =>
        {
            var shape = x[0].Shape;
            var upd = x[1];
            var r = new RefArray(shape, x[0].DType, (double[])x[0].Data.Clone());
            var start = new long[shape.Length];
            for (int d = 0; d < shape.Length; d++)
                start[d] = Math.Min(Math.Max((long)x[2 + d].Data[0], 0), shape[d] - upd.Shape[d]);
            var outIdx = new int[shape.Length];
            for (long i = 0; i < upd.Size; i++)
            {
                var idx = Unravel(i, upd.Shape);
                for (int d = 0; d < idx.Length; d++) outIdx[d] = (int)(start[d] + idx[d]);
                r.Data[Ravel(outIdx, shape)] = upd.Data[i];
            }
            return new[] { r };
        };
    }
}
