using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>
/// JAX's conventions at the edges (issue 15): remainder, floor division, float-to-integer
/// conversion, out-of-range indexing, derivatives at kinks and ties, integer powers and einsum.
/// Expected values are written out from JAX's documented semantics and its source (cited per
/// check), not computed by the code under test. Each check takes <c>put</c>, which places an
/// input on the backend under test, so the CPU tests (every ISA path) and the Vulkan tests share
/// the cases. Inputs repeat to 37 elements so SIMD bodies and tails both run.
/// </summary>
public static class JaxEdgeChecks
{
    const float Nan = float.NaN, Inf = float.PositiveInfinity;

    static T[] Rep<T>(T[] v) => Enumerable.Range(0, 37).Select(i => v[i % v.Length]).ToArray();
    static Tensor F(Func<Tensor, Tensor> put, params float[] v) => put(Tensor.FromArray(Rep(v), 37));
    static Tensor I(Func<Tensor, Tensor> put, params int[] v) => put(Tensor.FromArray(Rep(v), 37));
    static Tensor U(Func<Tensor, Tensor> put, params uint[] v) => put(Tensor.FromArray(Rep(v), 37));

    /// <summary>Asserts float32 results bit for bit (signed zeros count; any NaN matches NaN).</summary>
    public static void Bits(float[] expected, Tensor actual, string what)
    {
        Assert.Equal(DType.Float32, actual.DType);
        var a = actual.ToArray<float>();
        for (int i = 0; i < a.Length; i++)
        {
            float e = expected[i % expected.Length];
            bool ok = float.IsNaN(e) ? float.IsNaN(a[i]) : BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(a[i]);
            Assert.True(ok, $"{what}: element {i}: expected {e:R} (bits 0x{BitConverter.SingleToInt32Bits(e):X8}), got {a[i]:R} (bits 0x{BitConverter.SingleToInt32Bits(a[i]):X8})");
        }
    }

    /// <summary>Asserts integer results exactly.</summary>
    public static void Exact<T>(T[] expected, Tensor actual, string what) where T : unmanaged
    {
        var a = actual.ToArray<T>();
        for (int i = 0; i < a.Length; i++)
            Assert.True(EqualityComparer<T>.Default.Equals(expected[i % expected.Length], a[i]),
                $"{what}: element {i}: expected {expected[i % expected.Length]}, got {a[i]}");
    }

    /// <summary>
    /// jnp.remainder (jax/_src/numpy/ufuncs.py): <c>mod = rem(x, y)</c> (C fmod), plus y where mod
    /// is nonzero and its sign differs from y's; integer divisors of 0 are replaced by 1. jnp.fmod
    /// keeps C's sign of the dividend, also with integer x % 0 = 0.
    /// </summary>
    public static void Remainder(Func<Tensor, Tensor> put)
    {
        var x = F(put, 7, -7, 7, -7, 5, -5, -0f, 0, 1, Inf, Nan, 1, -1, 5.5f);
        var y = F(put, 3, 3, -3, -3, Inf, Inf, 3, -3, 0, 1, 1, Nan, -Inf, -2);
        // -5 % inf = -5 + inf = inf; -0 % 3 keeps fmod's -0 (the correction needs a nonzero mod).
        Bits(new[] { 1f, 2, -2, -1, 5, Inf, -0f, 0, Nan, Nan, Nan, Nan, -1, -0.5f }, Np.Remainder(x, y), "remainder float32");
        Bits(new[] { 1f, -1, 1, -1, 5, -5, -0f, 0, Nan, Nan, Nan, Nan, -1, 1.5f }, Np.Fmod(x, y), "fmod float32");
        Bits(new[] { 1f, 2, -2, -1, 5, Inf, -0f, 0, Nan, Nan, Nan, Nan, -1, -0.5f }, x % y, "operator %");

        var xi = I(put, 7, -7, 7, -7, 5, -5, 0, int.MinValue, int.MinValue, 6);
        var yi = I(put, 3, 3, -3, -3, 0, 0, 0, -1, 3, -4);
        Exact(new[] { 1, 2, -2, -1, 0, 0, 0, 0, 1, -2 }, Np.Remainder(xi, yi), "remainder int32");
        Exact(new[] { 1, -1, 1, -1, 0, 0, 0, 0, -2, 2 }, Np.Fmod(xi, yi), "fmod int32");
        Exact(new[] { 0u, 2u, 0u }, Np.Remainder(U(put, 7, 7, 0), U(put, 0, 5, 5)), "remainder uint32");
        Exact(new[] { 2, 1 }, Np.Remainder(I(put, -1, 4), 3), "remainder by a C# scalar");
    }

    /// <summary>
    /// jnp.floor_divide (jax/_src/numpy/ufuncs.py). Floats: JAX's <c>_float_divmod</c> (NumPy's
    /// divmod without CPython's signed-zero fix-up): <c>round((x - fmod(x, y)) / y)</c> (x itself
    /// when y == 0), one less where fmod's sign differs from y's. Signed integers: XLA's truncated
    /// quotient (x / 0 = -1, INT_MIN / -1 = INT_MIN) minus one where sign(x) != sign(y) and
    /// rem(x, y) != 0 (so 5 // 0 = -2). Unsigned: XLA's quotient (x / 0 = all ones).
    /// </summary>
    public static void FloorDivide(Func<Tensor, Tensor> put)
    {
        var x = F(put, 7, -7, 7, -7, 1, -1, 0, -0f, Inf, -Inf, 5, -5, 0, 1, Nan, 7.5f, -0f, 1, -0.3f);
        var y = F(put, 2, 2, -2, -2, 0, 0, 0, 1, 1, 1, Inf, Inf, -1, Nan, 1, 0.5f, -1, 0.1f, 0.1f);
        // 1 // 0.1f: the exact quotient 9.99999985 floors to 9 (floor(1 / 0.1f) would round to 10 first);
        // -0.3f // 0.1f: the exact quotient -3.00000007 floors to -4.
        Bits(new[] { 3f, -4, -4, 3, Inf, -Inf, Nan, 0, Nan, Nan, 0, -1, -0f, Nan, Nan, 15, -0f, 9, -4 },
            Np.FloorDivide(x, y), "floor_divide float32");

        var xi = I(put, 7, -7, 7, -7, 5, -5, 0, int.MinValue, int.MinValue, 1, 6);
        var yi = I(put, 2, 2, -2, -2, 0, 0, 0, -1, 2, -1, 3);
        Exact(new[] { 3, -4, -4, 3, -2, -2, -1, int.MinValue, -1073741824, -1, 2 }, Np.FloorDivide(xi, yi), "floor_divide int32");
        Exact(new[] { uint.MaxValue, 3u }, Np.FloorDivide(U(put, 7, 7), U(put, 0, 2)), "floor_divide uint32");
    }

    /// <summary>
    /// convert_element_type from float to integers as XLA's CPU backend computes it: LLVM's
    /// fptosi/fptoui, which x86-64 evaluates with cvttss2si: int32 gets INT_MIN (0x80000000) for
    /// NaN, +-Inf and out-of-range values; uint32 is the 64-bit truncation's low 32 bits (wrapping
    /// modulo 2^32; 0 for NaN, +-Inf and beyond +-2^63); uint8 the int32 truncation's low 8 bits.
    /// float16/bfloat16 sources convert the same way. To bool is x != 0 (NaN is true).
    /// </summary>
    public static void FloatToInteger(Func<Tensor, Tensor> put)
    {
        var x = F(put, 1.9f, -1.9f, Nan, Inf, -Inf, 3e9f, -3e9f, 2147483520f, -2147483648f, 2147483648f, 300.7f, -1f, -5.5f, 5e9f, 1e19f, -0.9f, 65535.9f);
        Exact(new[] { 1, -1, int.MinValue, int.MinValue, int.MinValue, int.MinValue, int.MinValue, 2147483520, int.MinValue,
                      int.MinValue, 300, -1, -5, int.MinValue, int.MinValue, 0, 65535 },
            Lax.ConvertElementType(x, DType.Int32), "float32 -> int32");
        Exact(new uint[] { 1, 4294967295, 0, 0, 0, 3000000000, 1294967296, 2147483520, 2147483648,
                           2147483648, 300, 4294967295, 4294967291, 705032704, 0, 0, 65535 },
            Lax.ConvertElementType(x, DType.UInt32), "float32 -> uint32");
        Exact(new byte[] { 1, 255, 0, 0, 0, 0, 0, 128, 0, 0, 44, 255, 251, 0, 0, 0, 255 },
            Lax.ConvertElementType(x, DType.UInt8), "float32 -> uint8");
        Exact(new[] { true }, Lax.ConvertElementType(x, DType.Bool), "float32 -> bool");
        // Through 16-bit floats: bfloat16 rounds 300.7 to 300 and 3e9 to 3003121664.
        var h = Lax.ConvertElementType(F(put, Nan, -Inf, 300.7f, -1f, 3e9f), DType.BFloat16);
        Exact(new[] { int.MinValue, int.MinValue, 300, -1, int.MinValue }, Lax.ConvertElementType(h, DType.Int32), "bfloat16 -> int32");
        Exact(new uint[] { 0, 0, 300, 4294967295, 3003121664 }, Lax.ConvertElementType(h, DType.UInt32), "bfloat16 -> uint32");
        var f16 = Lax.ConvertElementType(F(put, Nan, Inf, -300f, 65504f), DType.Float16);
        Exact(new byte[] { 0, 0, 212, 224 }, Lax.ConvertElementType(f16, DType.UInt8), "float16 -> uint8");
    }

    /// <summary>
    /// Out-of-range indexing. <c>x.at[i].get()</c> (and <c>x[i]</c>) wraps negative indices and
    /// uses mode 'promise_in_bounds' (jax/_src/numpy/array_methods.py: "out-of-bounds indices in
    /// get() will be clipped"); jnp.take defaults to 'fill' after wrapping negatives, clips the
    /// index as given with 'clip' (-1 becomes 0), and applies jnp.mod with 'wrap'
    /// (jax/_src/numpy/indexing.py, _take). jax.lax.gather's default mode is 'promise_in_bounds'
    /// (clamp). jax.lax.dynamic_slice and dynamic_update_slice add the dimension's size to a
    /// negative start before XLA clamps (_dynamic_slice_indices).
    /// </summary>
    public static void Indexing(Func<Tensor, Tensor> put)
    {
        var x = put(Tensor.FromArray(new[] { 10f, 11, 12, 13, 14 }));
        var idx = put(Tensor.FromArray(new[] { 7, -1, -6, 2 }));
        Bits(new[] { 14f, 14, 10, 12 }, x.At(idx).Get(), "at[].get()");
        Bits(new[] { Nan, 14, Nan, 12 }, x.At(idx).Get(GatherScatterMode.FillOrDrop), "at[].get(mode='fill')");
        Bits(new[] { -1f, 14, -1, 12 }, x.At(idx).Get(GatherScatterMode.FillOrDrop, fillValue: -1), "at[].get(mode='fill', fill_value=-1)");
        Bits(new[] { 14f, 14, 10, 12 }, x.At(idx).Get(GatherScatterMode.Clip), "at[].get(mode='clip')");
        Bits(new[] { Nan, 14, Nan, 12 }, Np.Take(x, idx), "take");
        Bits(new[] { 14f, 10, 10, 12 }, Np.Take(x, idx, mode: GatherScatterMode.Clip), "take(mode='clip')");
        Bits(new[] { 12f, 14, 14, 12 }, Np.Take(x, idx, mode: GatherScatterMode.Wrap), "take(mode='wrap')");
        Exact(new[] { 13, 12 }, Np.Take(put(Tensor.FromArray(new[] { 10, 11, 12, 13, 14 })), put(Tensor.FromArray(new uint[] { 8, 12 })), mode: GatherScatterMode.Wrap), "take uint32 indices (mode='wrap')");
        var m = put(Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } }));
        Bits(new[] { 3f, 1, 6, 4 }, Np.Take(m, put(Tensor.FromArray(new[] { -1, 3 })), axis: 1, mode: GatherScatterMode.Wrap), "take axis 1 (mode='wrap')");
        Bits(new[] { 3f, 6 }, m.At(put(Tensor.FromArray(new[] { 9 })), axis: 1).Get(), "at[:, 9].get() clamps");
        // lax.gather without a mode clamps the start.
        var dn = new GatherDimensionNumbers(Array.Empty<int>(), new[] { 0 }, new[] { 0 });
        Bits(new[] { 14f, 10 }, Lax.Gather(x, put(Tensor.FromArray(new[] { 9, -3 }, 2, 1)), dn, new[] { 1 }), "lax.gather default mode");

        var r = put(Tensor.FromArray(Enumerable.Range(0, 10).ToArray()));
        Tensor S(int v) => put(Tensor.Scalar(v, DType.Int32));
        Exact(new[] { 7, 8 }, Lax.DynamicSlice(r, new[] { S(-3) }, new[] { 2 }), "dynamic_slice start -3");
        Exact(new[] { 7, 8 }, Lax.DynamicSlice(r, new Tensor[] { -3 }, new[] { 2 }), "dynamic_slice start -3 (C# literal)");
        Exact(new[] { 7, 8, 9 }, Lax.DynamicSlice(r, new[] { S(-1) }, new[] { 3 }), "dynamic_slice start -1 clamps after wrapping");
        Exact(new[] { 0, 1, 2 }, Lax.DynamicSlice(r, new[] { S(-15) }, new[] { 3 }), "dynamic_slice start -15");
        var z = put(Tensor.Zeros(new Shape(6)));
        var ones = put(Tensor.Ones(new Shape(2)));
        Bits(new[] { 0f, 0, 1, 1, 0, 0 }, Lax.DynamicUpdateSlice(z, ones, new[] { S(-4) }), "dynamic_update_slice start -4");
        Bits(new[] { 0f, 0, 0, 0, 1, 1 }, Lax.DynamicUpdateSlice(z, ones, new[] { S(-1) }), "dynamic_update_slice start -1");
        // Traced starts take the same path (a select), and so do their derivatives.
        var f = Transforms.Jit((Tensor a, Tensor s) => Lax.DynamicSlice(a, new[] { s }, new[] { 2 }));
        Exact(new[] { 7, 8 }, f(r, S(-3)), "jit dynamic_slice start -3");
        var w = put(Tensor.FromArray(new[] { 2f, 3 }));
        var g = Transforms.Grad((Tensor v) => Np.Sum(Lax.DynamicSlice(v, new[] { S(-2) }, new[] { 2 }) * w));
        Bits(new[] { 0f, 0, 0, 2, 3 }, g(x), "grad of dynamic_slice start -2");
    }

    /// <summary>
    /// Derivatives at kinks and ties, per JAX's rules (jax/_src/lax/lax.py): abs' is
    /// <c>select(x >= 0, t, -t)</c> (1 at 0 and -0, -1 at NaN), so d/dx sqrt(|x|) at 0 is +inf;
    /// max/min give each operand <c>balanced_eq</c> weights (1, 0, or 1/2 at a tie; 0 when the
    /// result is NaN); reduce_max's JVP averages the tied tangents (NaN when the maximum is NaN).
    /// </summary>
    public static void KinksAndTies(Func<Tensor, Tensor> put)
    {
        Bits(new[] { 1f, 1, 1, -1, -1 }, Transforms.Grad((Tensor v) => Np.Sum(Np.Abs(v)))(put(Tensor.FromArray(new[] { 0f, -0f, 2, -3, Nan }))), "abs'");
        Bits(new[] { Inf, Inf, 0.25f }, Transforms.Grad((Tensor v) => Np.Sum(Np.Sqrt(Np.Abs(v))))(put(Tensor.FromArray(new[] { 0f, -0f, 4 }))), "d sqrt(|x|)");

        var x = put(Tensor.FromArray(new[] { 1f, 2, 3, Nan, 1, -0f }));
        var y = put(Tensor.FromArray(new[] { 1f, 1, 5, 1, Nan, 0f }));
        var dMax = Transforms.Grad((Tensor[] a) => Np.Sum(Np.Maximum(a[0], a[1])), 0, 1)(new[] { x, y });
        Bits(new[] { 0.5f, 1, 0, 0, 0, 0.5f }, dMax[0], "maximum d/dx");
        Bits(new[] { 0.5f, 0, 1, 0, 0, 0.5f }, dMax[1], "maximum d/dy");
        var dMin = Transforms.Grad((Tensor[] a) => Np.Sum(Np.Minimum(a[0], a[1])), 0, 1)(new[] { x, y });
        Bits(new[] { 0.5f, 0, 1, 0, 0, 0.5f }, dMin[0], "minimum d/dx");
        Bits(new[] { 0.5f, 1, 0, 0, 0, 0.5f }, dMin[1], "minimum d/dy");
        Bits(new[] { 0.5f, 0, 1 }, Transforms.Grad((Tensor v) => Np.Sum(Np.Maximum(v, 1.0)))(put(Tensor.FromArray(new[] { 1f, 0, 2 }))), "maximum(x, 1) d/dx");

        Bits(new[] { 0f, 0.5f, 0.5f, 0 }, Transforms.Grad((Tensor v) => Np.Max(v))(put(Tensor.FromArray(new[] { 1f, 3, 3, 2 }))), "max' at a tie");
        Bits(new[] { Nan, Nan, Nan }, Transforms.Grad((Tensor v) => Np.Max(v))(put(Tensor.FromArray(new[] { 1f, Nan, 3 }))), "max' of NaN");
        Bits(new[] { 0f, 0, 1f / 3, 1f / 3, 1f / 3 }, Transforms.Grad((Tensor v) => Np.Min(v))(put(Tensor.FromArray(new[] { 2f, 3, 1, 1, 1 }))), "min' at a three-way tie");
        Exact(new[] { 3 }, Np.Argmax(put(Tensor.FromArray(new[] { 1f, 3, 3, Nan, Nan, 7 }))), "argmax: the first NaN");
        Exact(new[] { 1 }, Np.Argmax(put(Tensor.FromArray(new[] { 1f, 3, 3, 2 }))), "argmax: the first of a tie");
        Exact(new[] { 1 }, Np.Argmin(put(Tensor.FromArray(new[] { 2f, 1, 1 }))), "argmin: the first of a tie");
    }

    /// <summary>
    /// cummax/cummin/cumprod are differentiated as JAX does (jax/_src/lax/control_flow/loops.py,
    /// <c>_cumulative_jvp_rule</c>): the JVP of <c>associative_scan</c> with max's/min's/mul's JVP at
    /// each combine, so a tie splits the tangent equally at every combine of the odd/even recursion.
    /// The expected gradients of <c>sum(cum*(x))</c> come from a separate simulation of
    /// associative_scan with those rules (dyadic values, so exact).
    /// </summary>
    public static void CumulativeTies(Func<Tensor, Tensor> put)
    {
        Tensor G(Func<Tensor, Tensor> f, params float[] v) => Transforms.Grad((Tensor a) => Np.Sum(f(a)))(put(Tensor.FromArray(v)));
        Bits(new[] { 1.75f, 0.75f, 0.5f }, G(v => Lax.Cummax(v), 1, 1, 1), "cummax [1, 1, 1]");
        Bits(new[] { 2f, 1, 0.75f, 0.25f }, G(v => Lax.Cummax(v), 2, 2, 2, 2), "cummax [2, 2, 2, 2]");
        Bits(new[] { 4.25f, 0, 1.375f, 0.875f, 0, 1.25f, 0, 0.25f }, G(v => Lax.Cummax(v), 3, 1, 3, 3, 2, 3, 0, 3), "cummax [3, 1, 3, 3, 2, 3, 0, 3]");
        Bits(new[] { 2.125f, 1.125f, 0.875f, 0.375f, 0.5f }, G(v => Lax.Cummin(v), 1, 1, 1, 1, 1), "cummin [1, 1, 1, 1, 1]");
        Bits(new[] { 0.5f, 0.75f, 1.75f }, G(v => Lax.Cummax(v, reverse: true), 1, 1, 1), "cummax reverse [1, 1, 1]");
        Bits(new[] { 0f, 0.5f, 1, 0, 1.75f, 1.375f, 2.375f }, G(v => Lax.Cummax(v, reverse: true), 0, 5, 5, 1, 5, 5, 5), "cummax reverse [0, 5, 5, 1, 5, 5, 5]");
        Bits(new[] { 1.5f, 2, -7, 0, 0, 0 }, G(v => Lax.Cumprod(v), 2, 0.5f, 0, 4, -1, 2), "cumprod with a zero");
        Bits(new[] { 0f, 0, 0, 3, 1 }, G(v => Lax.Cumprod(v, reverse: true), 1, 2, 0, 0, 3), "cumprod reverse with zeros");
        // A 2-D cummax along axis 1 and reduce_prod with zeros.
        var m = put(Tensor.FromArray(new float[,] { { 1, 1, 1 }, { 0, 2, 1 } }));
        Bits(new[] { 1.75f, 0.75f, 0.5f, 1, 2, 0 }, Transforms.Grad((Tensor a) => Np.Sum(Lax.Cummax(a, 1)))(m), "cummax along axis 1");
        Bits(new[] { 0f, 3, 0, 0 }, Transforms.Grad((Tensor a) => Np.Prod(a))(put(Tensor.FromArray(new[] { 2f, 0, 3, 0.5f }))), "prod' with a zero");
        Bits(new[] { 6f, 3, 2 }, Transforms.Grad((Tensor a) => Np.Prod(a))(put(Tensor.FromArray(new[] { 1f, 2, 3 }))), "prod'");
    }

    /// <summary>
    /// jnp.power (jax/_src/numpy/ufuncs.py): a concrete integer scalar exponent is lax.integer_pow
    /// (square-and-multiply: x^3 = x * (x * x), x^5 = x * ((x * x) * (x * x)), x^-n = 1 / x^n; a
    /// negative power of an integer is an error; derivative n * x^(n-1)); two integer arrays stay
    /// integer through <c>_pow_int_int</c> (six rounds over the exponent's bits, wrapping products,
    /// so 2^31 is INT_MIN, 2^64 is 1 and 2^-1 is 0); a float base with an integer exponent array is
    /// lax.pow with the integer-exponent JVP (0 where the exponent is 0); float exponents use
    /// lax.pow's JVP <c>t * y * x^(y-1)</c>, which is NaN at x = 0 for y = 0.
    /// </summary>
    public static void Power(Func<Tensor, Tensor> put)
    {
        var xi = put(Tensor.FromArray(new[] { 2, 3, -2, 0, 0, 2, 7, 2, -1, 2, 3 }));
        var yi = put(Tensor.FromArray(new[] { 3, 0, 3, 0, 2, -1, 2, 31, -1, 64, 40 }));
        var pii = Np.Power(xi, yi);
        Assert.Equal(DType.Int32, pii.DType);
        Exact(new[] { 8, 1, -8, 1, 0, 0, 49, int.MinValue, -1, 1, 689956897 }, pii, "power(int32, int32)");
        var pu = Np.Power(put(Tensor.FromArray(new uint[] { 2, 3 })), put(Tensor.FromArray(new uint[] { 31, 21 })));
        Assert.Equal(DType.UInt32, pu.DType);
        Exact(new uint[] { 2147483648, 1870418611 }, pu, "power(uint32, uint32)");
        var p3 = Np.Power(put(Tensor.FromArray(new[] { 2, 3, -2, 0, 5 })), 3);
        Assert.Equal(DType.Int32, p3.DType);
        Exact(new[] { 8, 27, -8, 0, 125 }, p3, "power(int32, 3)");
        Check.Throws<ArgumentException>(() => Np.Power(put(Tensor.FromArray(new[] { 2 })), -2), "power", "negative powers");

        float[] xs = { 3.3f, 1.7f, 2.9f, -1.1f, 0, 0.5f };
        var xf = put(Tensor.FromArray(xs));
        Bits(xs.Select(v => v * (v * v)).ToArray(), Np.Power(xf, 3), "power(float32, 3) = x * (x * x)");
        Bits(xs.Select(v => v * (v * v * (v * v))).ToArray(), Np.Power(xf, 5), "power(float32, 5)");
        Bits(xs.Select(v => 1 / (v * v)).ToArray(), Np.Power(xf, -2), "power(float32, -2)");
        Bits(new[] { 1f }, Np.Power(xf, 0), "power(float32, 0)");
        Bits(xs.Select(v => 3 * (v * v)).ToArray(), Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, 3)))(xf), "d power(x, 3)");
        Bits(xs.Select(v => 2 * v).ToArray(), Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, 2)))(xf), "d power(x, 2)");
        Bits(xs.Select(v => -2 * (1 / (v * (v * v)))).ToArray(), Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, -2)))(xf), "d power(x, -2)");
        Bits(new[] { 0f }, Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, 0)))(xf), "d power(x, 0)");
        // Under Vmap and Jit (integer_pow's custom JVP batches and stages).
        var rows = put(Tensor.FromArray(new float[,] { { 3.3f, 1.7f }, { 2.9f, -1.1f } }));
        Bits(new[] { 3.3f, 1.7f, 2.9f, -1.1f }.Select(v => v * (v * v)).ToArray(), Np.Ravel(Transforms.Vmap(v => Np.Power(v, 3))(rows)), "vmap power(x, 3)");
        Bits(new[] { 3.3f, 1.7f, 2.9f, -1.1f }.Select(v => 3 * (v * v)).ToArray(),
            Np.Ravel(Transforms.Jit(Transforms.Vmap(Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, 3)))))(rows)), "jit vmap grad power(x, 3)");

        // A float base with an integer exponent array.
        var b = put(Tensor.FromArray(new[] { 0f, 0, 2, 2, 0.5f }));
        var e = put(Tensor.FromArray(new[] { 0, 2, 0, -1, 3 }));
        Bits(new[] { 1f, 0, 1, 0.5f, 0.125f }, Np.Power(b, e), "power(float32, int32)");
        Bits(new[] { 0f, 0, 0, -0.25f, 0.75f }, Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, e)))(b), "d power(float32, int32)");
        Assert.Equal(DType.Float16, Np.Power(Lax.ConvertElementType(b, DType.Float16), e).DType);
        Bits(new[] { 1f, 4, 1, 0.5f, 8 }, Np.Power(2.0, e), "power(2.0, int32)");
        // A float exponent: lax.pow's JVP has no zero special case.
        Bits(new[] { Nan, 0 }, Transforms.Grad((Tensor v) => Np.Sum(Np.Power(v, 0.0)))(put(Tensor.FromArray(new[] { 0f, 2 }))), "d power(x, 0.0)");
    }

    /// <summary>
    /// The einsum definition, evaluated naively: the sum over every assignment of the letters of the
    /// product of the operands' entries (exact for the small integers used here).
    /// </summary>
    static double[] NaiveEinsum(string spec, params (double[] Data, int[] Shape)[] ops)
    {
        var parts = spec.Split("->");
        var ins = parts[0].Split(',');
        var size = new Dictionary<char, int>();
        for (int i = 0; i < ins.Length; i++)
            for (int d = 0; d < ins[i].Length; d++) size[ins[i][d]] = ops[i].Shape[d];
        var letters = size.Keys.ToArray();
        string outp = parts[1];
        int outSize = outp.Aggregate(1, (a, c) => a * size[c]);
        var result = new double[outSize];
        var at = new Dictionary<char, int>();
        void Loop(int k)
        {
            if (k == letters.Length)
            {
                double prod = 1;
                for (int i = 0; i < ins.Length; i++)
                {
                    int flat = 0;
                    for (int d = 0; d < ins[i].Length; d++) flat = flat * ops[i].Shape[d] + at[ins[i][d]];
                    prod *= ops[i].Data[flat];
                }
                int o = 0;
                foreach (var c in outp) o = o * size[c] + at[c];
                result[o] += prod;
                return;
            }
            for (int v = 0; v < size[letters[k]]; v++) { at[letters[k]] = v; Loop(k + 1); }
        }
        Loop(0);
        return result;
    }

    /// <summary>
    /// jnp.einsum with repeated subscripts (diagonals and traces, taken by masking with an identity
    /// pattern, so off-diagonal NaN/inf do not leak: jax's sum_repeats) and with three or more
    /// operands (contracted a pair at a time).
    /// </summary>
    public static void Einsum(Func<Tensor, Tensor> put)
    {
        (double[], int[]) D(int seed, params int[] shape)
        {
            var rng = new Random(seed);
            int n = shape.Aggregate(1, (a, b) => a * b);
            return (Enumerable.Range(0, n).Select(_ => (double)rng.Next(-4, 5)).ToArray(), shape);
        }
        Tensor T((double[] Data, int[] Shape) d) => put(new Reference.RefArray(d.Shape, DType.Float32, d.Data).ToTensor());
        void Case(string spec, params (double[], int[])[] ops)
        {
            var expected = NaiveEinsum(spec, ops);
            var actual = Np.Einsum(spec, ops.Select(T).ToArray());
            Bits(expected.Select(v => (float)v).ToArray(), Np.Ravel(actual), $"einsum {spec}");
        }
        var sq = D(1, 3, 3);
        Case("ii->i", sq);
        Case("ii->", sq);
        Case("iij->j", D(2, 3, 3, 4));
        Case("iij->ij", D(3, 2, 2, 3));
        Case("ij,ji->", D(4, 3, 4), D(5, 4, 3));
        Case("ii,jj->", sq, D(6, 2, 2));
        Case("ii,ij->j", sq, D(7, 3, 4));
        Case("ij,jk,kl->il", D(8, 2, 3), D(9, 3, 4), D(10, 4, 2));
        Case("i,i,i->", D(11, 5), D(12, 5), D(13, 5));
        Case("i,j,ij->", D(14, 3), D(15, 4), D(16, 3, 4));
        Case("bij,bjk,bkl->bli", D(17, 2, 2, 3), D(18, 2, 3, 2), D(19, 2, 2, 3));
        Case("ab,bc,cd,de->ea", D(20, 2, 3), D(21, 3, 2), D(22, 2, 4), D(23, 4, 3));
        Case("ij,jk,ik->", D(24, 2, 3), D(25, 3, 4), D(26, 2, 4));
        Assert.Equal(new Shape(), Np.Einsum("ii", T(sq)).Shape);   // implicit form: the trace
        Bits(new[] { 3f }, Np.Einsum("ii->", put(Tensor.FromArray(new float[,] { { 1, Nan }, { Inf, 2 } }))), "trace ignores off-diagonal NaN/inf");
        Bits(new[] { 1f, 0, 0, 0, 1, 0, 0, 0, 1 }, Np.Ravel(Transforms.Grad((Tensor a) => Np.Einsum("ii", a))(T(sq))), "d trace");
        var stack = put(Tensor.FromArray(new float[,,] { { { 1, 2 }, { 3, 4 } }, { { 5, Nan }, { 7, 8 } } }));
        Bits(new[] { 5f, 13 }, Transforms.Jit(Transforms.Vmap(a => Np.Einsum("ii->", a)))(stack), "jit vmap trace");
    }
}
