namespace Stax.Tests.Reference;

public static partial class Ref
{
    static partial void RegisterConversion()
    {
        Rules[Prims.ConvertElementType] = (p, x, o) =>
        {
            var to = ((ConvertParams)p).NewDType;
            var r = New(o[0]);
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] = ConvertValue(x[0].Data[i], x[0].DType, to);
            return new[] { r };
        };
        Rules[Prims.BitcastConvertType] = (p, x, o) =>
            new[] { RefArray.FromBytes(x[0].ToBytes(), o[0].Shape.ToArray(), o[0].DType) };
        Rules[Prims.Iota] = (p, x, o) =>
        {
            var ip = (IotaParams)p;
            var r = New(o[0]);
            var shape = ip.Shape.ToArray();
            for (long i = 0; i < r.Size; i++) r.Data[i] = Unravel(i, shape)[ip.Dimension];
            return new[] { r };
        };
    }

    /// <summary>
    /// XLA CPU conversion semantics (x86-64's fptosi/fptoui): float to int truncates; int32 gets
    /// INT_MIN for NaN, +-Inf and out-of-range values, uint32 the truncated value modulo 2^32 (0 for
    /// NaN, +-Inf and beyond +-2^63), uint8 the int32 result modulo 256. Written independently of
    /// the backends' code.
    /// </summary>
    public static double ConvertValue(double v, DType from, DType to)
    {
        if (to == DType.Bool) return v != 0 ? 1 : 0;
        if (to.IsFloat() || !from.IsFloat()) return v; // Fit() rounds or wraps
        double t = Math.Truncate(v);
        double i32 = t >= -Math.Pow(2, 31) && t < Math.Pow(2, 31) ? t : -Math.Pow(2, 31);
        return to switch
        {
            DType.Int32 => i32,
            DType.UInt32 => Math.Abs(t) < Math.Pow(2, 63) ? Mod(t, 32) : 0,
            _ => Mod(i32, 8),
        };
    }

    // An integral t modulo 2^bits, exactly (BigInteger holds every integral double).
    static double Mod(double t, int bits)
    {
        var m = System.Numerics.BigInteger.One << bits;
        var r = new System.Numerics.BigInteger(t) % m;
        return (double)(r.Sign < 0 ? r + m : r);
    }

    static partial void RegisterReshaping()
    {
        Rules[Prims.Reshape] = (p, x, o) => new[] { new RefArray(o[0].Shape.ToArray(), o[0].DType, (double[])x[0].Data.Clone()) };
        Rules[Prims.BroadcastInDim] = (p, x, o) =>
        {
            var bp = (BroadcastInDimParams)p;
            var r = New(o[0]);
            var outShape = bp.Shape.ToArray();
            var inIdx = new int[x[0].Rank];
            for (long i = 0; i < r.Size; i++)
            {
                var idx = Unravel(i, outShape);
                for (int d = 0; d < inIdx.Length; d++)
                    inIdx[d] = x[0].Shape[d] == 1 ? 0 : idx[bp.BroadcastDimensions[d]];
                r.Data[i] = x[0].Data[Ravel(inIdx, x[0].Shape)];
            }
            return new[] { r };
        };
    }
}
