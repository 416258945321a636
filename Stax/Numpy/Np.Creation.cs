namespace Stax;

public static partial class Np
{
    /// <summary>Zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32) => Tensor.Zeros(shape, dtype);
    /// <summary>Ones.</summary>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32) => Tensor.Ones(shape, dtype);
    /// <summary>A tensor filled with one value.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32) => Tensor.Full(shape, value, dtype);
    /// <summary>Zeros with the shape and dtype of <paramref name="x"/> (works on traced tensors).</summary>
    public static Tensor ZerosLike(Tensor x) => Lax.BroadcastInDim(Tensor.Scalar(0, x.DType), x.Shape);
    /// <summary>Ones with the shape and dtype of <paramref name="x"/>.</summary>
    public static Tensor OnesLike(Tensor x) => Lax.BroadcastInDim(Tensor.Scalar(1, x.DType), x.Shape);
    /// <summary>A value broadcast to the shape and dtype of <paramref name="x"/>.</summary>
    public static Tensor FullLike(Tensor x, double value) => Lax.BroadcastInDim(Tensor.Scalar(value, x.DType), x.Shape);

    /// <summary>Values start, start+step, ... below stop (int32 when all are integers; see the float overload).</summary>
    public static Tensor Arange(int start, int stop, int step = 1)
    {
        if (step == 0) throw new ArgumentException("arange: step must not be zero");
        int n = Math.Max(0, (int)Math.Ceiling((stop - (double)start) / step));
        var i = Lax.Iota(DType.Int32, new Shape(n));
        return start == 0 && step == 1 ? i : i * step + start;
    }

    /// <summary>0, 1, ..., stop-1 as int32.</summary>
    public static Tensor Arange(int stop) => Arange(0, stop);

    /// <summary>Float values start, start+step, ... below stop.</summary>
    public static Tensor Arange(double start, double stop, double step, DType dtype = DType.Float32)
    {
        if (step == 0) throw new ArgumentException("arange: step must not be zero");
        int n = Math.Max(0, (int)Math.Ceiling((stop - start) / step));
        return Lax.ConvertElementType(Lax.Iota(DType.Int32, new Shape(n)), dtype) * step + start;
    }

    /// <summary><paramref name="num"/> evenly spaced values from start to stop (inclusive by default).</summary>
    public static Tensor Linspace(double start, double stop, int num = 50, bool endpoint = true, DType dtype = DType.Float32)
    {
        if (num < 0) throw new ArgumentException($"linspace: num must be non-negative, got {num}");
        int div = endpoint ? num - 1 : num;
        double step = div > 0 ? (stop - start) / div : 0;
        var host = new double[num];
        for (int i = 0; i < num; i++) host[i] = start + i * step;
        if (endpoint && num > 1) host[^1] = stop;
        return Lax.ConvertElementType(Tensor.FromArray(host), dtype);
    }

    /// <summary>An n x m matrix with ones on diagonal <paramref name="k"/>.</summary>
    public static Tensor Eye(int n, int? m = null, int k = 0, DType dtype = DType.Float32)
    {
        int cols = m ?? n;
        var shape = new Shape(n, cols);
        var rows = Lax.Iota(DType.Int32, shape, 0);
        var colsI = Lax.Iota(DType.Int32, shape, 1);
        return Lax.ConvertElementType(Lax.Eq(Lax.Add(rows, Lax.BroadcastInDim(Tensor.Scalar(k, DType.Int32), shape)), colsI), dtype);
    }
}
