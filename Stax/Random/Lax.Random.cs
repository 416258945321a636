namespace Stax;

public static partial class Lax
{
    /// <summary>
    /// Threefry-2x32 (20 rounds) of the counter words (<paramref name="x0"/>, <paramref name="x1"/>)
    /// under the key (<paramref name="key0"/>, <paramref name="key1"/>), as jax.random's
    /// <c>threefry_2x32</c> primitive. All operands must be uint32; they are broadcast to one shape.
    /// </summary>
    public static (Tensor Y0, Tensor Y1) Threefry2x32(Tensor key0, Tensor key1, Tensor x0, Tensor x1)
    {
        var ops = new[] { key0, key1, x0, x1 };
        string[] names = { "key0", "key1", "x0", "x1" };
        for (int i = 0; i < 4; i++)
            if (ops[i].DType != DType.UInt32)
                throw new ArgumentException($"threefry2x32: {names[i]} must be uint32, got {ops[i].DType.Name()} (shape {ops[i].Shape})");
        var shape = Np.BroadcastShapes("threefry2x32", ops.Select(o => o.Shape).ToArray());
        for (int i = 0; i < 4; i++)
            if (ops[i].Shape != shape) ops[i] = Np.BroadcastTo(ops[i], shape);
        var r = Prims.Threefry2x32.Bind(Params.None, ops);
        return (r[0], r[1]);
    }
}
