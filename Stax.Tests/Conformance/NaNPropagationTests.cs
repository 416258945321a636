using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>
/// Which NaN a float32 CPU function returns: the first NaN operand, quieted (sign and payload kept, the
/// rule of x86 arithmetic with one NaN operand and of the Vulkan backend's functions), on every ISA path
/// and in vector bodies and scalar tails alike; neg and abs act on the sign bit. Left to each algorithm's
/// arithmetic, a NaN met a NaN of the other sign derived from it, and the result depended on the operand
/// order the JIT chose, which changes when tiered compilation replaces a kernel's code while the process
/// runs (a 1-thread and a 2-thread run of erf_inv then differed in element 0's sign).
/// </summary>
public class NaNPropagationTests
{
    // Quiet and signaling NaNs of both signs, with and without payloads.
    static readonly uint[] NaNBits = { 0xFFC00000, 0x7FC00000, 0xFFC00123, 0x7FC00456, 0x7F800001, 0xFF812345 };
    static readonly float[] Others = { 1f, -2f, 0.5f, 0f, -0f, float.PositiveInfinity, float.NegativeInfinity, 1e-40f };

    static uint Quiet(uint bits) => bits | 0x0040_0000;
    static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);
    static uint[] Bits(Tensor t) => t.ToArray<float>().Select(BitConverter.SingleToUInt32Bits).ToArray();

    // 37 elements per run, so the vector loops and the scalar tails both see every NaN.
    static float[] Spread(uint[] bits, int offset)
        => Enumerable.Range(0, 37).Select(i => F(bits[(i + offset) % bits.Length])).ToArray();

    public static IEnumerable<object[]> UnaryOps => ElementwiseTests.UnaryCases
        .Where(c => c.DTypes.Contains(DType.Float32) && c.Prim != Prims.IsFinite)
        .Select(c => new object[] { c.Prim.Name + (c.P is RoundParams r ? "_" + r.Method : "") });

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryFunctionsReturnTheirNaNInputQuieted(string op)
    {
        var c = ElementwiseTests.UnaryCases.First(u => u.Prim.Name + (u.P is RoundParams r ? "_" + r.Method : "") == op);
        foreach (var isa in Config.AvailableIsas)
            for (int offset = 0; offset < NaNBits.Length; offset++)
            {
                var x = Spread(NaNBits, offset);
                uint[] got;
                using (Config.UseIsa(isa)) got = Bits(c.Prim.Bind1(c.P, Tensor.FromArray(x, x.Length)));
                for (int i = 0; i < x.Length; i++)
                {
                    uint xb = BitConverter.SingleToUInt32Bits(x[i]);
                    uint want = c.Prim == Prims.Neg ? xb ^ 0x8000_0000 : c.Prim == Prims.Abs ? xb & 0x7FFF_FFFF : Quiet(xb);
                    Assert.True(want == got[i], $"{op} {isa}: element {i} of NaN {xb:X8} gave {got[i]:X8}, expected {want:X8}");
                }
            }
    }

    [Theory]
    [InlineData("atan2")]
    [InlineData("max")]
    [InlineData("min")]
    public void BinaryFunctionsReturnTheFirstNaNOperandQuieted(string op)
    {
        var p = new[] { Prims.Atan2, Prims.Max, Prims.Min }.First(q => q.Name == op);
        // Every pair of a NaN and a NaN or another value, in both orders.
        var pairs = new List<(uint, uint)>();
        foreach (var n in NaNBits)
        {
            foreach (var o in Others.Select(BitConverter.SingleToUInt32Bits)) { pairs.Add((n, o)); pairs.Add((o, n)); }
            foreach (var m in NaNBits) pairs.Add((n, m));
        }
        var x = pairs.Select(q => F(q.Item1)).ToArray();
        var y = pairs.Select(q => F(q.Item2)).ToArray();
        foreach (var isa in Config.AvailableIsas)
        {
            uint[] got;
            using (Config.UseIsa(isa))
                got = Bits(p.Bind1(Params.None, Tensor.FromArray(x, x.Length), Tensor.FromArray(y, y.Length)));
            for (int i = 0; i < pairs.Count; i++)
            {
                var (a, b) = pairs[i];
                uint want = Quiet(float.IsNaN(F(a)) ? a : b);
                Assert.True(want == got[i], $"{op} {isa}: ({a:X8}, {b:X8}) gave {got[i]:X8}, expected {want:X8}");
            }
        }
    }
}
