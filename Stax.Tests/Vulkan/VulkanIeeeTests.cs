using System.Runtime.InteropServices;
using Stax.Backends.Cpu;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>Backends for the IEEE tests: the shared one (float controls applied where the device
/// allows them) and one that requests none, which runs the kernels as a driver without float
/// controls would: their explicit NaN/Inf/subnormal handling alone must give the right answers.</summary>
public static class VulkanIeeeEnv
{
    static readonly Lazy<VulkanBackend> NoControls = new(() => new VulkanBackend(Environment.GetEnvironmentVariable("STAX_VULKAN_DEVICE"), FloatModes.None));

    /// <summary>A backend on the same device with no float-control modes requested.</summary>
    public static VulkanBackend NoFloatControls => NoControls.Value;

    /// <summary>Both backends, named.</summary>
    public static (string Name, VulkanBackend Backend)[] Both => new[] { ("float controls", VulkanCheck.Vk), ("no float controls", NoFloatControls) };
}

/// <summary>
/// IEEE behaviour on Vulkan that drivers without float controls (or with fast-math defaults, as
/// NVIDIA's) get wrong unless the kernels handle it: NaN and infinity inputs to every
/// transcendental, division by zero, subnormal inputs and results, and bit-exact movement of 16-bit
/// floats. Results are compared with the CPU backend strictly: NaN only with NaN, zeros and
/// infinities with the same sign, other values within a few units in the last place of the dtype
/// (so a subnormal flushed to zero, or -0 for a tiny result, fails). Each check runs on a backend
/// with float controls and on one without.
/// </summary>
[Trait("Backend", "Vulkan")]
public class VulkanIeeeTests
{
    static Tensor F32(params uint[] bits) => Tensor.FromBytes(MemoryMarshal.AsBytes(bits.AsSpan()), new Shape(bits.Length), DType.Float32);
    static Tensor F32(params float[] v) => Tensor.FromArray(v);
    static Tensor Bits16(DType t, params ushort[] bits) => Tensor.FromBytes(MemoryMarshal.AsBytes(bits.AsSpan()), new Shape(bits.Length), t);
    static uint B(float f) => BitConverter.SingleToUInt32Bits(f);

    /// <summary>NaNs (quiet, negative, with payloads, signalling), infinities, both zeros, subnormals of
    /// both signs (the smallest, 1e-40, the largest), the normal extremes, and values around the
    /// ranges where exp/pow/logistic results turn subnormal or overflow.</summary>
    static readonly uint[] Specials = new uint[] { 0x7FC00000, 0xFFC00000, 0x7FA12345, 0xFF800001, 0x7F800000, 0xFF800000, 0x00000000, 0x80000000,
        0x00000001, 0x80000001, 0x000116C2, 0x800116C2, 0x00400000, 0x007FFFFF, 0x807FFFFF, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF }
        .Concat(new[] { 1e-30f, -1e-30f, 1e-20f, 0.5f, -0.5f, 1f, -1f, 0.99999994f, -0.99999994f, 1.0000001f, 2f, 3f, -3f, 10f, 88.7f, 89f, -87.5f,
            -95f, -100f, -103.9f, -104f, -110f, 1e10f, 3e38f, -3e38f, 16777216f }.Select(B)).ToArray();

    /// <summary>A smaller set for the binary grids (every pair).</summary>
    static readonly uint[] GridValues = new uint[] { 0x7FC00000, 0xFFC00000, 0x7F800000, 0xFF800000, 0x00000000, 0x80000000, 0x00000001, 0x000116C2,
        0x800116C2, 0x007FFFFF, 0x00800000 }.Concat(new[] { 1e-30f, 0.5f, -0.5f, 1f, -1f, 2f, -3f, 10f, 140f, -140f, 3e38f, -3e38f }.Select(B)).ToArray();

    static (Tensor X, Tensor Y) Grid(uint[] values)
    {
        var x = new List<uint>();
        var y = new List<uint>();
        foreach (var a in values)
            foreach (var b in values) { x.Add(a); y.Add(b); }
        return (F32(x.ToArray()), F32(y.ToArray()));
    }

    static ulong BitsAt(byte[] b, int k, int es) { ulong v = 0; for (int j = es - 1; j >= 0; j--) v = v << 8 | b[k * es + j]; return v; }

    /// <summary>NaN matches any NaN; infinities only themselves; other values (zeros included) need the
    /// same sign and at most <paramref name="ulps"/> units in the last place of the dtype between
    /// them, so -0 for +0, or a subnormal flushed to zero, fails.</summary>
    internal static void Strict(Tensor expected, Tensor actual, int ulps, string context, params Tensor[] inputs)
    {
        Assert.Equal(expected.Aval.ToString(), actual.Aval.ToString());
        var t = expected.DType;
        var e = expected.ToBytes();
        var a = actual.ToBytes();
        int es = t.SizeOf();
        for (int k = 0; k < e.Length / es; k++)
        {
            ulong be = BitsAt(e, k, es), ba = BitsAt(a, k, es);
            if (be == ba) continue;
            bool ok = false;
            if (t.IsFloat())
            {
                int bits = es * 8;
                ulong sign = 1UL << (bits - 1);
                ulong expMask = t switch { DType.Float16 => 0x7C00UL, DType.BFloat16 => 0x7F80UL, _ => 0x7F800000UL };
                bool IsNaN(ulong v) => (v & expMask) == expMask && (v & ~(sign | expMask)) != 0;
                bool IsInf(ulong v) => (v & ~sign) == expMask;
                // Same sign always (so -0 never stands for +0), infinities exactly, the rest within ulps.
                ok = IsNaN(be) ? IsNaN(ba)
                    : !IsNaN(ba) && !IsInf(be) && !IsInf(ba) && (be & sign) == (ba & sign) && Math.Abs((long)(be & ~sign) - (long)(ba & ~sign)) <= ulps;
            }
            if (!ok)
            {
                string ins = string.Join(", ", inputs.Select(x => $"0x{BitsAt(x.ToBytes(), k, x.DType.SizeOf()):X} ({x.ToDoubleArray()[k]:R})"));
                Assert.Fail($"{context}: element {k} (inputs {ins}): CPU 0x{be:X} ({expected.ToDoubleArray()[k]:R}), Vulkan 0x{ba:X} ({actual.ToDoubleArray()[k]:R}), {ulps} ulp allowed");
            }
        }
    }

    /// <summary>Binds <paramref name="p"/> on the CPU and on each Vulkan backend and compares strictly.</summary>
    static void AgainstCpu(Primitive p, Params parameters, Tensor[] inputs, int ulps, string context)
    {
        var cpu = CpuBackend.Instance;
        var expected = p.Bind(parameters, inputs.Select(x => x.DevicePut(cpu)).ToArray());
        foreach (var (name, vk) in VulkanIeeeEnv.Both)
        {
            var actual = p.Bind(parameters, inputs.Select(x => x.DevicePut(vk)).ToArray());
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Same(vk, actual[i].Backend);
                Strict(expected[i], actual[i], ulps, $"{context} ({name}) output {i}", inputs);
            }
        }
    }

    /// <summary>Raw bytes equal to the CPU's on each backend (data movement must not change a bit).</summary>
    static void BitExact(Primitive p, Params parameters, Tensor[] inputs, string context)
    {
        var cpu = CpuBackend.Instance;
        var expected = p.Bind(parameters, inputs.Select(x => x.DevicePut(cpu)).ToArray());
        foreach (var (name, vk) in VulkanIeeeEnv.Both)
        {
            var actual = p.Bind(parameters, inputs.Select(x => x.DevicePut(vk)).ToArray());
            for (int i = 0; i < expected.Length; i++)
                Assert.True(expected[i].ToBytes().AsSpan().SequenceEqual(actual[i].ToBytes()),
                    $"{context} ({name}) output {i}: CPU {Hex(expected[i])}, Vulkan {Hex(actual[i])}");
        }
    }

    static string Hex(Tensor t)
    {
        int es = t.DType.SizeOf();
        var b = t.ToBytes();
        return string.Join(" ", Enumerable.Range(0, b.Length / es).Select(k => BitsAt(b, k, es).ToString(es == 2 ? "X4" : "X8")));
    }

    static readonly (Primitive Prim, Params P, int Ulps)[] Unary =
    {
        (Prims.Exp, Params.None, 1), (Prims.Log, Params.None, 1), (Prims.Log1p, Params.None, 1), (Prims.Expm1, Params.None, 1),
        (Prims.Tanh, Params.None, 1), (Prims.Logistic, Params.None, 1), (Prims.Sqrt, Params.None, 1), (Prims.Rsqrt, Params.None, 1),
        (Prims.Sin, Params.None, 1), (Prims.Cos, Params.None, 1), (Prims.Erf, Params.None, 1), (Prims.ErfInv, Params.None, 2),
        (Prims.Erfc, Params.None, 1), (Prims.Tan, Params.None, 2), (Prims.Asin, Params.None, 1), (Prims.Acos, Params.None, 1),
        (Prims.Atan, Params.None, 1), (Prims.Sinh, Params.None, 1), (Prims.Cosh, Params.None, 1), (Prims.Asinh, Params.None, 1),
        (Prims.Acosh, Params.None, 1), (Prims.Atanh, Params.None, 1), (Prims.Cbrt, Params.None, 0),
        (Prims.Floor, Params.None, 0), (Prims.Ceil, Params.None, 0), (Prims.Round, new RoundParams(RoundingMethod.AwayFromZero), 0),
        (Prims.Round, new RoundParams(RoundingMethod.ToNearestEven), 0), (Prims.Sign, Params.None, 0), (Prims.Abs, Params.None, 0),
        (Prims.Neg, Params.None, 0), (Prims.IsFinite, Params.None, 0),
    };

    public static IEnumerable<object[]> UnaryNames => Unary.Select((c, i) => new object[] { i, $"{c.Prim.Name} {c.P}" });

    /// <summary>NaN, ±inf, ±0 and subnormal inputs to every float unary primitive, float32 and the 16-bit floats.</summary>
    [VulkanTheory]
    [MemberData(nameof(UnaryNames))]
    public void SpecialInputsToEveryUnaryFunction(int index, string name)
    {
        var (prim, p, ulps) = Unary[index];
        Assert.Equal(name, $"{prim.Name} {p}");
        var x = F32(Specials);
        AgainstCpu(prim, p, new[] { x }, ulps, $"{name} float32");
        foreach (var t in VulkanCheck.Half16)
        {
            // 16-bit specials: the float32 ones rounded, plus the subnormal and NaN-payload patterns.
            ushort[] extra = t == DType.Float16 ? new ushort[] { 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0200, 0x7C01, 0xFE12 } : new ushort[] { 0x0001, 0x8001, 0x007F, 0x807F, 0x0040, 0x7F81, 0xFFC5 };
            var x16 = Lax.Concatenate(new[] { Lax.ConvertElementType(x, t), Bits16(t, extra) }, 0);
            AgainstCpu(prim, p, new[] { x16 }, Math.Min(ulps, 1), $"{name} {t.Name()}");
        }
    }

    static readonly (Primitive Prim, int Ulps)[] Binary =
    {
        (Prims.Div, 0), (Prims.Pow, 8), (Prims.Atan2, 2), (Prims.NextAfter, 0), (Prims.Max, 0), (Prims.Min, 0),
        (Prims.Eq, 0), (Prims.Ne, 0), (Prims.Lt, 0), (Prims.Le, 0), (Prims.Gt, 0), (Prims.Ge, 0),
    };

    public static IEnumerable<object[]> BinaryNames => Binary.Select((c, i) => new object[] { i, c.Prim.Name });

    /// <summary>Every pair of special values (NaN, ±inf, ±0, subnormals, extremes) for the float binary
    /// primitives whose kernels must get them right on any driver.</summary>
    [VulkanTheory]
    [MemberData(nameof(BinaryNames))]
    public void SpecialPairsToEveryBinaryFunction(int index, string name)
    {
        var (prim, ulps) = Binary[index];
        Assert.Equal(name, prim.Name);
        var (x, y) = Grid(GridValues);
        AgainstCpu(prim, Params.None, new[] { x, y }, ulps, $"{name} float32");
        foreach (var t in VulkanCheck.Half16)
            if (prim != Prims.NextAfter)   // float32 and float64 only
                AgainstCpu(prim, Params.None, new[] { Lax.ConvertElementType(x, t), Lax.ConvertElementType(y, t) }, Math.Min(ulps, 1), $"{name} {t.Name()}");
    }

    /// <summary>x / ±0 is ±inf (NaN for 0/0 and NaN/0), x / ±inf is ±0, and huge or subnormal operands
    /// keep IEEE quotients (a driver dividing by a reciprocal gives NaN, 0 or a flushed result).</summary>
    [VulkanFact]
    public void DivisionFollowsIeee()
    {
        float inf = float.PositiveInfinity, sub = 1e-40f, tiny = float.Epsilon;
        var cases = new (float X, float Y, float Q)[]
        {
            (1, 0, inf), (-1, 0, -inf), (1, -0f, -inf), (-1, -0f, inf), (3e38f, 0, inf), (sub, 0, inf), (-sub, 0, -inf), (tiny, -0f, -inf),
            (inf, 0, inf), (-inf, 0, -inf), (0, 0, float.NaN), (-0f, 0, float.NaN), (float.NaN, 0, float.NaN),
            (1, inf, 0), (-1, inf, -0f), (1, -inf, -0f), (sub, -inf, -0f), (inf, inf, float.NaN), (0, 1, 0), (-0f, 1, -0f), (0, -3, -0f),
            (3e38f, 3e38f, 1), (1, 3e38f, 1 / 3e38f), (1e-30f, 3e38f, 0), (2e38f, 1e38f, 2), (3e38f, 0.5f, inf), (3e38f, 2e-38f, inf),
            (sub, sub, 1), (sub, 2, sub / 2), (tiny, 2, 0), (3 * tiny, 2, 2 * tiny), (5 * tiny, 2, 2 * tiny), (sub, 1e-30f, sub / 1e-30f),
            (1, sub, inf), (1e-30f, sub, 1e-30f / sub), (1.17549435e-38f, 3, 1.17549435e-38f / 3), (-1.17549435e-38f, 1024, -1.17549435e-38f / 1024),
            (7, 3, 7f / 3), (1, 10, 0.1f), (-1e10f, 3e-10f, -1e10f / 3e-10f),
        };
        var x = F32(cases.Select(c => c.X).ToArray());
        var y = F32(cases.Select(c => c.Y).ToArray());
        foreach (var (name, vk) in VulkanIeeeEnv.Both)
        {
            var q = (x.DevicePut(vk) / y.DevicePut(vk)).ToArray<float>();
            for (int i = 0; i < cases.Length; i++)
            {
                var (a, b, want) = cases[i];
                Assert.True(float.IsNaN(want) ? float.IsNaN(q[i]) : B(want) == B(q[i]), $"{name}: {a:R} / {b:R} = {want:R} (0x{B(want):X8}), Vulkan gave {q[i]:R} (0x{B(q[i]):X8})");
            }
        }
        AgainstCpu(Prims.Div, Params.None, new[] { x, y }, 0, "div cases");
        // Correctly rounded like the CPU's division for random operands of every magnitude,
        // quotients from overflow down through the subnormals.
        var rng = new Random(13);
        float R() => BitConverter.UInt32BitsToSingle((uint)rng.Next(1, 0x7F800000) | (rng.Next(2) == 0 ? 0 : 0x80000000u));
        var nx = new float[100_000];
        var ny = new float[nx.Length];
        for (int i = 0; i < nx.Length; i++)
        {
            nx[i] = R();
            // Half the divisors near the dividend's magnitude times a random power of two, so many quotients are normal or subnormal.
            ny[i] = i % 2 == 0 ? R() : nx[i] * MathF.ScaleB(1 + (float)rng.NextDouble(), rng.Next(-40, 150));
            if (ny[i] == 0 || !float.IsFinite(ny[i])) ny[i] = 1.5f;
        }
        AgainstCpu(Prims.Div, Params.None, new[] { F32(nx), F32(ny) }, 0, "div random");
    }

    /// <summary>The failures measured on NVIDIA (issue 13), as explicit expectations.</summary>
    [VulkanFact]
    public void FailuresMeasuredOnNvidiaStayFixed()
    {
        foreach (var (name, vk) in VulkanIeeeEnv.Both)
        {
            Tensor V(Tensor t) => t.DevicePut(vk);
            var nans = V(F32(0x7FC00000u, 0xFFC00000u, 0x7FA12345u));
            foreach (var (f, fname) in new (Func<Tensor, Tensor>, string)[] { (Np.Exp, "exp"), (Np.Expm1, "expm1"), (Np.Tanh, "tanh"), (Np.Log1p, "log1p"), (Np.Log, "log"), (Np.Sqrt, "sqrt") })
                Assert.All(f(nans).ToArray<float>(), v => Assert.True(float.IsNaN(v), $"{name}: {fname}(NaN) gave {v:R}"));
            var big = Np.Log1p(V(F32(3e38f, float.MaxValue, 1e30f))).ToArray<float>();
            Assert.Equal(new[] { MathF.Log(3e38f), MathF.Log(float.MaxValue), MathF.Log(1e30f) }, big, (a, b) => Math.Abs(a - b) <= 1e-5f * Math.Abs(a));
            var q = (V(F32(1f, -1f, 1e-40f)) / V(F32(0f, 0f, -0f))).ToArray<float>();
            Assert.Equal(new[] { float.PositiveInfinity, float.NegativeInfinity, float.NegativeInfinity }, q);
            // pow with subnormal results: 2^-140 is exact; the others within 2 subnormal steps.
            var pw = Lax.Pow(V(F32(2f, 0.5f, 3e38f, 1e-20f, 1e-40f)), V(F32(-140f, 140f, -1.1f, 2.05f, 1f))).ToArray<float>();
            var want = new[] { MathF.Pow(2, -140), (float)Math.Pow(0.5, 140), (float)Math.Pow(3e38f, -1.1), (float)Math.Pow(1e-20f, 2.05), 1e-40f };
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs((long)B(want[i]) - B(pw[i])) <= 2, $"{name}: pow case {i}: want {want[i]:R}, got {pw[i]:R}");
            Assert.Equal(B(MathF.Pow(2, -140)), B(pw[0]));
            // atan2 with subnormal results keeps them (and their sign).
            float[] num = { 1e-40f, -1e-40f, float.Epsilon, -1e-30f, 3e-39f }, den = { 1f, 1f, 1f, 1e10f, 7f };
            var at = Lax.Atan2(V(F32(num)), V(F32(den))).ToArray<float>();
            Assert.Equal(num.Zip(den, (a, b) => B(a / b)).ToArray(), at.Select(B).ToArray());
            // bfloat16/float16 subnormals are nonzero.
            foreach (var t in VulkanCheck.Half16)
            {
                var subs = V(Bits16(t, 0x0001, 0x8001, 0x0040, 0x0000, 0x8000));
                Assert.Equal(new[] { true, true, true, false, false }, Lax.ConvertElementType(subs, DType.Bool).ToArray<bool>());
                Assert.Equal(new[] { true, true, true, false, false }, Lax.Ne(subs, V(Bits16(t, 0, 0, 0, 0, 0))).ToArray<bool>());
            }
            // Sorting bfloat16 keeps every payload: a subnormal does not turn into -0.
            var sorted = Lax.Sort(V(Bits16(DType.BFloat16, 0x0001, 0x8000, 0x8001, 0x0000, 0x0040)), 0);
            Assert.Equal(new ushort[] { 0x8001, 0x8000, 0x0000, 0x0001, 0x0040 }, MemoryMarshal.Cast<byte, ushort>(sorted.ToBytes()).ToArray());
        }
    }

    /// <summary>Functions whose results turn subnormal: every result in those ranges, strictly
    /// against the CPU (exp is exactly the CPU's; pow keeps its relative accuracy of a few ulps).</summary>
    [VulkanFact]
    public void SubnormalResults()
    {
        var xs = Enumerable.Range(0, 2000).Select(i => -103.99f + i * (103.99f - 87.3f) / 1999).ToArray();
        AgainstCpu(Prims.Exp, Params.None, new[] { F32(xs) }, 0, "exp into the subnormal range");
        AgainstCpu(Prims.Logistic, Params.None, new[] { F32(xs) }, 1, "logistic into the subnormal range");
        // erfc's tail: the CPU rounds e^(-h^2) before the last product, the shader scales once.
        var tail = Enumerable.Range(0, 1000).Select(i => 8.9f + i * 1.7f / 999).ToArray();
        AgainstCpu(Prims.Erfc, Params.None, new[] { F32(tail) }, 1, "erfc into the subnormal range");
        var ys = Enumerable.Range(0, 400).Select(i => -149.5f + i * 0.06f).ToArray();
        AgainstCpu(Prims.Pow, Params.None, new[] { F32(ys.Select(_ => 2f).ToArray()), F32(ys) }, 8, "2^y into the subnormal range");
        AgainstCpu(Prims.Pow, Params.None, new[] { F32(ys.Select(y => 1e-30f).ToArray()), F32(ys.Select((_, i) => 1.26f + i * 0.0006f).ToArray()) }, 8, "1e-30^y into the subnormal range");
        var tiny = Enumerable.Range(1, 300).Select(i => BitConverter.UInt32BitsToSingle((uint)(i * 27961))).ToArray();   // subnormals
        var tx = F32(tiny.Concat(tiny.Select(v => -v)).ToArray());
        foreach (var prim in new[] { Prims.Erf, Prims.Erfc, Prims.ErfInv, Prims.Tan, Prims.Asin, Prims.Acos, Prims.Atan, Prims.Sinh, Prims.Cosh, Prims.Asinh, Prims.Acosh, Prims.Atanh, Prims.Sin, Prims.Tanh, Prims.Expm1, Prims.Log1p, Prims.Sqrt, Prims.Rsqrt, Prims.Log })
            AgainstCpu(prim, Params.None, new[] { tx }, 0, $"{prim.Name} of subnormals");
        var ones = F32(tx.ToArray<float>().Select(_ => 1f).ToArray());
        AgainstCpu(Prims.Atan2, Params.None, new[] { tx, ones }, 0, "atan2(subnormal, 1)");
        AgainstCpu(Prims.Div, Params.None, new[] { tx, F32(tx.ToArray<float>().Select((_, i) => 1 + i * 0.37f).ToArray()) }, 0, "subnormal / x");
        AgainstCpu(Prims.Div, Params.None, new[] { F32(tx.ToArray<float>().Select((_, i) => 1e-30f * (1 + i)).ToArray()), F32(tx.ToArray<float>().Select((_, i) => 1e10f + i).ToArray()) }, 0, "x / y into the subnormal range");
    }

    /// <summary>Comparisons, max/min, reductions, arg reductions, cumulative max and sorting see
    /// subnormals as nonzero and -0 as +0, exactly as the CPU does.</summary>
    [VulkanFact]
    public void SubnormalsOrderExactly()
    {
        var x = F32(0x000116C2u, 0x00000000u, 0x80000000u, 0x800116C2u, 0x00000001u, 0x80000001u, 0x007FFFFFu, 0x00800000u);
        BitExact(Prims.ReduceMax, new ReduceParams(new[] { 0 }), new[] { x }, "reduce_max");
        BitExact(Prims.ReduceMin, new ReduceParams(new[] { 0 }), new[] { x }, "reduce_min");
        BitExact(Prims.Argmax, new ArgReduceParams(new[] { 0 }, DType.Int32), new[] { x }, "argmax");
        BitExact(Prims.Argmin, new ArgReduceParams(new[] { 0 }, DType.Int32), new[] { x }, "argmin");
        BitExact(Prims.Cummax, new CumulativeParams(0, false), new[] { x }, "cummax");
        BitExact(Prims.Cummin, new CumulativeParams(0, false), new[] { x }, "cummin");
        BitExact(Prims.Sort, new SortParams(0), new[] { x }, "sort");
        var (a, b) = Grid(new uint[] { 0x000116C2, 0x00000000, 0x80000000, 0x800116C2, 0x00000001, 0x007FFFFF, 0x00800000 });
        foreach (var prim in new[] { Prims.Eq, Prims.Ne, Prims.Lt, Prims.Le, Prims.Gt, Prims.Ge, Prims.Max, Prims.Min })
            BitExact(prim, Params.None, new[] { a, b }, prim.Name);
        BitExact(Prims.ConvertElementType, new ConvertParams(DType.Bool), new[] { x }, "float32 -> bool");
    }

    /// <summary>Plain add/sub/mul with subnormal operands or results need DenormPreserve (or a driver that
    /// keeps subnormals, as lavapipe does): checked where one of the two holds.</summary>
    [VulkanFact]
    public void ArithmeticOnSubnormalsWhereTheDeviceKeepsThem()
    {
        var vk = VulkanCheck.Vk;
        bool keeps = vk.Capabilities.AppliedFloatControls.Contains("DenormPreserve 32") || vk.Capabilities.DeviceType == "Cpu";
        if (!keeps) return;   // documented: such a driver may flush subnormal arithmetic (Vulkan allows it)
        var (x, y) = Grid(new uint[] { 0x000116C2, 0x800116C2, 0x00000001, 0x007FFFFF, 0x00800000, 0x80800000, B(1e-20f), B(0.5f), B(-3f) });
        var cpu = CpuBackend.Instance;
        foreach (var prim in new[] { Prims.Add, Prims.Sub, Prims.Mul })
            Strict(prim.Bind1(Params.None, x.DevicePut(cpu), y.DevicePut(cpu)), prim.Bind1(Params.None, x.DevicePut(vk), y.DevicePut(vk)), 0, prim.Name, x, y);
    }

    static ushort[] Payloads(DType t) => t == DType.Float16
        ? new ushort[] { 0x0001, 0x8001, 0x03FF, 0x83FF, 0x0200, 0x0000, 0x8000, 0x7C01, 0x7E00, 0xFE12, 0x7DFF, 0x7C00, 0xFC00, 0x3C00, 0xBC00, 0x7BFF }
        : new ushort[] { 0x0001, 0x8001, 0x007F, 0x807F, 0x0040, 0x0000, 0x8000, 0x7F81, 0x7FC0, 0xFFC5, 0x7FBF, 0x7F80, 0xFF80, 0x3F80, 0xBF80, 0x7F7F };

    /// <summary>Every data-movement primitive moves float16/bfloat16 subnormal and NaN payloads with
    /// their bits unchanged (compared byte for byte with the CPU).</summary>
    [VulkanFact]
    public void SixteenBitDataMovementIsBitExact()
    {
        foreach (var t in VulkanCheck.Half16)
        {
            var p = Payloads(t);
            var flat = Bits16(t, p.Concat(p.Reverse()).Concat(p.Select((v, i) => p[(i * 7) % p.Length])).Concat(p.Take(16)).ToArray());   // 64
            var m = Lax.Reshape(flat, new Shape(4, 16));
            string n = t.Name();
            BitExact(Prims.Sort, new SortParams(1), new[] { m }, $"{n} sort rows");
            BitExact(Prims.Sort, new SortParams(0), new[] { m }, $"{n} sort columns");
            BitExact(Prims.Sort, new SortParams(1, NumKeys: 1), new[] { m, Lax.Rev(m, 1) }, $"{n} sort key + payload operand");
            BitExact(Prims.TopK, new TopKParams(5), new[] { m }, $"{n} top_k");
            BitExact(Prims.Transpose, new TransposeParams(new[] { 1, 0 }), new[] { m }, $"{n} transpose");
            BitExact(Prims.Concatenate, new ConcatenateParams(1), new[] { m, Lax.Rev(m, 0) }, $"{n} concatenate");
            BitExact(Prims.Concatenate, new ConcatenateParams(0), new[] { Lax.Slice(m, new[] { 0, 1 }, new[] { 3, 14 }), Lax.Slice(m, new[] { 1, 0 }, new[] { 2, 13 }) }, $"{n} concatenate odd");
            BitExact(Prims.Slice, new SliceParams(new[] { 1, 1 }, new[] { 4, 16 }, new[] { 2, 3 }), new[] { m }, $"{n} strided slice");
            BitExact(Prims.Rev, new RevParams(new[] { 0, 1 }), new[] { m }, $"{n} rev");
            BitExact(Prims.Pad, new PadParams(new[] { 1, 2 }, new[] { 0, 1 }, new[] { 0, 1 }), new[] { m, Lax.Reshape(Bits16(t, p[7]), new Shape()) }, $"{n} pad with a NaN payload");
            BitExact(Prims.BroadcastInDim, new BroadcastInDimParams(new Shape(3, 4, 16), new[] { 1, 2 }), new[] { m }, $"{n} broadcast");
            BitExact(Prims.Select, Params.None, new[] { Tensor.FromArray(Enumerable.Range(0, 64).Select(i => i % 3 != 1).ToArray(), 4, 16), m, Lax.Rev(m, 1) }, $"{n} select");
            var gdn = new GatherDimensionNumbers(new[] { 1 }, new[] { 0 }, new[] { 0 });
            BitExact(Prims.Gather, new GatherParams(gdn, new[] { 1, 16 }), new[] { m, Tensor.FromArray(new[] { 3, 0, 2, 2, 1 }, 5, 1) }, $"{n} gather rows");
            var gdn2 = new GatherDimensionNumbers(Array.Empty<int>(), new[] { 0 }, new[] { 0 });
            BitExact(Prims.Gather, new GatherParams(gdn2, new[] { 1 }), new[] { flat, Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (i * 37) % 64).ToArray(), 40, 1) }, $"{n} gather elements");
            var sdn = new ScatterDimensionNumbers(new[] { 1 }, new[] { 0 }, new[] { 0 });
            BitExact(Prims.Scatter, new ScatterParams(sdn), new[] { m, Tensor.FromArray(new[] { 2, 0 }, 2, 1), Lax.Rev(Lax.Slice(m, new[] { 0, 0 }, new[] { 2, 16 }), 1) }, $"{n} scatter rows");
            BitExact(Prims.DynamicSlice, new DynamicSliceParams(new[] { 2, 7 }), new[] { m, Tensor.Scalar(1, DType.Int32), Tensor.Scalar(5, DType.Int32) }, $"{n} dynamic_slice");
            BitExact(Prims.DynamicUpdateSlice, Params.None, new[] { m, Lax.Slice(Lax.Rev(m, 1), new[] { 0, 0 }, new[] { 2, 5 }), Tensor.Scalar(2, DType.Int32), Tensor.Scalar(9, DType.Int32) }, $"{n} dynamic_update_slice");
            BitExact(Prims.BitcastConvertType, new BitcastParams(t == DType.Float16 ? DType.BFloat16 : DType.Float16), new[] { m }, $"{n} bitcast");
            // Through float32 and back: exact for every non-signalling pattern, like the CPU.
            BitExact(Prims.ConvertElementType, new ConvertParams(DType.Float32), new[] { m }, $"{n} -> float32");
            BitExact(Prims.ConvertElementType, new ConvertParams(t), new[] { Lax.ConvertElementType(m, DType.Float32) }, $"float32 -> {n}");
            BitExact(Prims.ConvertElementType, new ConvertParams(DType.Bool), new[] { m }, $"{n} -> bool");
            // The round trip through the device keeps every byte.
            foreach (var (name, vk) in VulkanIeeeEnv.Both)
                Assert.Equal(m.ToBytes(), Lax.Transpose(Lax.Transpose(m.DevicePut(vk), new[] { 1, 0 }), new[] { 1, 0 }).ToBytes());
        }
    }

    /// <summary>float32 subnormals (both signs, every exponent position) convert to bfloat16 and
    /// float16 exactly as on the CPU (rounding on bits, no flush).</summary>
    [VulkanFact]
    public void SubnormalConversionsAreExact()
    {
        var bits = new List<uint>();
        for (int sh = 0; sh < 23; sh++)
            foreach (uint low in new uint[] { 0, 1, 0x7FFF, 0x8000, 0x8001, 0x17FFF, 0x18000 })
            {
                uint v = ((1u << sh) | (low & ((1u << sh) - 1))) & 0x7FFFFF;
                bits.Add(v); bits.Add(v | 0x80000000);
            }
        bits.AddRange(new uint[] { 0x7FA12345, 0xFFC00001, 0x387FFFFF, 0x38800000, 0x33000001, 0x33800000, 0x00800000 });
        var x = F32(bits.ToArray());
        foreach (var t in VulkanCheck.Half16)
        {
            BitExact(Prims.ConvertElementType, new ConvertParams(t), new[] { x }, $"float32 subnormals -> {t.Name()}");
            BitExact(Prims.ConvertElementType, new ConvertParams(DType.Float32), new[] { Lax.ConvertElementType(x, t) }, $"{t.Name()} -> float32");
        }
    }
}
