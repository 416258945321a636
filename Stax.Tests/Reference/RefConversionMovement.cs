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

    /// <summary>XLA CPU conversion semantics: float to int truncates and saturates, NaN gives 0.</summary>
    public static double ConvertValue(double v, DType from, DType to)
    {
        if (to == DType.Bool) return v != 0 ? 1 : 0;
        if (to.IsFloat() || !from.IsFloat()) return v; // Fit() rounds or wraps
        if (double.IsNaN(v)) return 0;
        double t = Math.Truncate(v);
        return to switch
        {
            DType.Int32 => Math.Clamp(t, int.MinValue, int.MaxValue),
            DType.UInt32 => Math.Clamp(t, 0, uint.MaxValue),
            _ => Math.Clamp(t, 0, 255),
        };
    }

    static partial void RegisterMovement()
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
        RegisterMovementMore();
    }

    // Transpose, slice, pad, ... (Reference/RefMovement.cs).
    static partial void RegisterMovementMore();
}
