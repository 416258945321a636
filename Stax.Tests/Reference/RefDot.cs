namespace Stax.Tests.Reference;

public static partial class Ref
{
    static partial void RegisterDot()
    {
        Rules[Prims.DotGeneral] = (p, x, o) => new[] { DotGeneral((DotGeneralParams)p, x[0], x[1], o[0]) };
        Rules[Prims.ConvGeneralDilated] = (p, x, o) => new[] { Conv((ConvParams)p, x[0], x[1], o[0]) };
    }

    // For each output element: walk every combination of contracting indices and sum in double.
    static RefArray DotGeneral(DotGeneralParams p, RefArray lhs, RefArray rhs, AbstractValue outType)
    {
        var r = New(outType);
        var lFree = Enumerable.Range(0, lhs.Rank).Where(d => !p.LhsBatch.Contains(d) && !p.LhsContracting.Contains(d)).ToArray();
        var rFree = Enumerable.Range(0, rhs.Rank).Where(d => !p.RhsBatch.Contains(d) && !p.RhsContracting.Contains(d)).ToArray();
        var cShape = p.LhsContracting.ToArray().Select(d => lhs.Shape[d]).ToArray();
        long cSize = cShape.Aggregate(1L, (a, b) => a * b);
        var outShape = outType.Shape.ToArray();
        int nb = p.LhsBatch.Length;
        var li = new int[lhs.Rank];
        var ri = new int[rhs.Rank];
        for (long f = 0; f < r.Size; f++)
        {
            var oi = Unravel(f, outShape);
            for (int b = 0; b < nb; b++) { li[p.LhsBatch[b]] = oi[b]; ri[p.RhsBatch[b]] = oi[b]; }
            for (int k = 0; k < lFree.Length; k++) li[lFree[k]] = oi[nb + k];
            for (int k = 0; k < rFree.Length; k++) ri[rFree[k]] = oi[nb + lFree.Length + k];
            double sum = 0;
            for (long c = 0; c < cSize; c++)
            {
                var ci = Unravel(c, cShape);
                for (int k = 0; k < ci.Length; k++) { li[p.LhsContracting[k]] = ci[k]; ri[p.RhsContracting[k]] = ci[k]; }
                sum += lhs.Data[Ravel(li, lhs.Shape)] * rhs.Data[Ravel(ri, rhs.Shape)];
            }
            r.Data[f] = sum;
        }
        return r;
    }

    // Direct definition (XLA's evaluator semantics): for each output element, every kernel position and
    // input feature of its group; dilated/padded input positions outside the data or between dilated
    // samples contribute zero.
    static RefArray Conv(ConvParams p, RefArray lhs, RefArray rhs, AbstractValue outType)
    {
        var r = New(outType);
        var dn = p.DimensionNumbers;
        int ns = lhs.Rank - 2;
        var outShape = outType.Shape.ToArray();
        int N = lhs.Shape[dn.LhsSpec[0]];
        int O = rhs.Shape[dn.RhsSpec[0]], I = rhs.Shape[dn.RhsSpec[1]];
        int G = p.FeatureGroupCount, B = p.BatchGroupCount;
        int outPerFGroup = O / G, outPerBGroup = O / B, batchPerGroup = N / B;
        var kShape = Enumerable.Range(0, ns).Select(i => rhs.Shape[dn.RhsSpec[2 + i]]).ToArray();
        long kSize = kShape.Aggregate(1L, (a, b) => a * b);
        var li = new int[lhs.Rank];
        var ri = new int[rhs.Rank];
        for (long f = 0; f < r.Size; f++)
        {
            var oi = Unravel(f, outShape);
            int n = oi[dn.OutSpec[0]], o = oi[dn.OutSpec[1]];
            int fg = o / outPerFGroup, bg = o / outPerBGroup;
            double sum = 0;
            for (long kf = 0; kf < kSize; kf++)
            {
                var k = Unravel(kf, kShape);
                bool inside = true;
                for (int s = 0; s < ns && inside; s++)
                {
                    long pos = (long)oi[dn.OutSpec[2 + s]] * p.WindowStrides[s] + (long)k[s] * p.RhsDilation[s] - p.PaddingLow[s];
                    int inSize = lhs.Shape[dn.LhsSpec[2 + s]];
                    if (pos < 0 || pos % p.LhsDilation[s] != 0 || pos / p.LhsDilation[s] >= inSize) inside = false;
                    else li[dn.LhsSpec[2 + s]] = (int)(pos / p.LhsDilation[s]);
                    ri[dn.RhsSpec[2 + s]] = k[s];
                }
                if (!inside) continue;
                li[dn.LhsSpec[0]] = bg * batchPerGroup + n;
                ri[dn.RhsSpec[0]] = o;
                for (int c = 0; c < I; c++)
                {
                    li[dn.LhsSpec[1]] = fg * I + c;
                    ri[dn.RhsSpec[1]] = c;
                    sum += lhs.Data[Ravel(li, lhs.Shape)] * rhs.Data[Ravel(ri, rhs.Shape)];
                }
            }
            r.Data[f] = sum;
        }
        return r;
    }
}
