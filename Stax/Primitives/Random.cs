namespace Stax.Extend;

public static partial class Prims
{
    /// <summary>
    /// The Threefry-2x32 block cipher with 20 rounds (Salmon et al., Random123), as jax.random's
    /// <c>threefry2x32</c>: inputs key0, key1, x0, x1 are uint32 tensors of one shape; the two
    /// uint32 outputs are the encrypted counter words. Elementwise: element i of the outputs
    /// depends only on element i of every input.
    /// </summary>
    public static readonly Primitive Threefry2x32 = new("threefry2x32", PrimitiveFamily.Random, (ins, _) =>
    {
        string[] names = { "key0", "key1", "x0", "x1" };
        for (int i = 0; i < 4; i++)
            if (ins[i].DType != DType.UInt32)
                throw new ArgumentException($"threefry2x32: {names[i]} must be uint32, got {ins[i].DType.Name()} (shape {ins[i].Shape})");
        for (int i = 1; i < 4; i++)
            if (ins[i].Shape != ins[0].Shape)
                throw new ArgumentException($"threefry2x32: operand shapes must be equal, got {string.Join(" and ", ins.ToArray().Select(x => x.Shape.ToString()))} (Lax.Threefry2x32 broadcasts)");
        var o = new AbstractValue(ins[0].Shape, DType.UInt32);
        return new[] { o, o };
    }, inputs: 4, multipleResults: true);
}
