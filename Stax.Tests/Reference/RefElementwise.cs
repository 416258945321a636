namespace Stax.Tests.Reference;

public static partial class Ref
{
    // Elementwise reference: plain double math (System.Math), integers wrapped explicitly through
    // long/ulong, and XLA's edge cases spelled out. Float32 results are rounded by Run afterwards.
    static partial void RegisterElementwise()
    {
        Unary(Prims.Neg, (t, x) => -x); // Fit wraps integers
        Unary(Prims.Exp, (t, x) => Math.Exp(x));
        Unary(Prims.Log, (t, x) => Math.Log(x));
        Unary(Prims.Log1p, (t, x) => Math.Abs(x) < 1 ? 2 * Math.Atanh(x / (2 + x)) : Math.Log(1 + x));
        Unary(Prims.Expm1, (t, x) =>
        {
            if (x > 40) return Math.Exp(x) - 1;
            if (x < -40) return -1;
            double h = Math.Tanh(x / 2);
            return 2 * h / (1 - h);
        });
        Unary(Prims.Tanh, (t, x) => Math.Tanh(x));
        Unary(Prims.Logistic, (t, x) => 1 / (1 + Math.Exp(-x)));
        Unary(Prims.Sqrt, (t, x) => Math.Sqrt(x));
        Unary(Prims.Rsqrt, (t, x) => 1 / Math.Sqrt(x));
        Unary(Prims.Abs, (t, x) => Math.Abs(x)); // |INT_MIN| = 2^31 wraps back to INT_MIN in Fit
        Unary(Prims.Sign, (t, x) => double.IsNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : x);
        Unary(Prims.Sin, (t, x) => Math.Sin(x));
        Unary(Prims.Cos, (t, x) => Math.Cos(x));
        Unary(Prims.Erf, (t, x) => RefErf(x));
        Unary(Prims.ErfInv, (t, x) => RefErfInv(x));
        Unary(Prims.Erfc, (t, x) => RefErfc(x));
        Unary(Prims.Cbrt, (t, x) => Math.Cbrt(x));
        // nextafter steps in the operand's own precision (C's nextafter / nextafterf).
        Binary(Prims.NextAfter, (t, x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : x == y ? y
            : t == DType.Float32 ? (x < y ? MathF.BitIncrement((float)x) : MathF.BitDecrement((float)x))
            : (x < y ? Math.BitIncrement(x) : Math.BitDecrement(x)));
        Unary(Prims.Tan, (t, x) => Math.Tan(x));
        Unary(Prims.Asin, (t, x) => Math.Asin(x));
        Unary(Prims.Acos, (t, x) => Math.Acos(x));
        Unary(Prims.Atan, (t, x) => Math.Atan(x));
        Unary(Prims.Sinh, (t, x) => Math.Sinh(x));
        Unary(Prims.Cosh, (t, x) => Math.Cosh(x));
        Unary(Prims.Asinh, (t, x) => Math.Asinh(x));
        Unary(Prims.Acosh, (t, x) => Math.Acosh(x));
        Unary(Prims.Atanh, (t, x) => Math.Atanh(x));

        Unary(Prims.Floor, (t, x) => Math.Floor(x));
        Unary(Prims.Ceil, (t, x) => Math.Ceiling(x));
        Unary(Prims.Not, (t, x) => t switch
        {
            DType.Bool => x == 0 ? 1 : 0,
            DType.Int32 => ~(int)x,
            DType.UInt32 => ~(uint)x,
            _ => (byte)~(byte)x,
        });
        Unary(Prims.IsFinite, (t, x) => double.IsFinite(x) ? 1 : 0);
        Rules[Prims.Round] = (p, ins, o) =>
        {
            var mode = ((RoundParams)p).Method == RoundingMethod.AwayFromZero ? MidpointRounding.AwayFromZero : MidpointRounding.ToEven;
            var r = New(o[0]);
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] = Math.Round(ins[0].Data[i], mode);
            return new[] { r };
        };

        Binary(Prims.Add, (t, x, y) => x + y);   // exact in double for every dtype here, Fit wraps
        Binary(Prims.Sub, (t, x, y) => x - y);
        Binary(Prims.Mul, (t, x, y) => t switch
        {
            DType.Int32 => unchecked((int)((long)x * (long)y)),
            DType.UInt32 => unchecked((uint)((ulong)x * (ulong)y)),
            DType.UInt8 => unchecked((byte)((long)x * (long)y)),
            _ => x * y,
        });
        Binary(Prims.Div, (t, x, y) =>
        {
            if (t.IsFloat()) return x / y;
            if (y == 0) return t == DType.Int32 ? -1 : t == DType.UInt32 ? uint.MaxValue : byte.MaxValue;
            if (t == DType.Int32 && x == int.MinValue && y == -1) return int.MinValue;
            return (long)x / (long)y; // C# truncates toward zero
        });
        Binary(Prims.Rem, (t, x, y) =>
        {
            if (t.IsFloat()) return CFmod(x, y);
            if (y == 0) return x;
            return (long)x % (long)y;
        });
        Binary(Prims.Pow, (t, x, y) => Math.Pow(x, y));
        // NaN propagates; -0 < +0.
        Binary(Prims.Max, (t, x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : x > y ? x : x < y ? y : double.IsNegative(x) ? y : x);
        Binary(Prims.Min, (t, x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : x < y ? x : x > y ? y : double.IsNegative(x) ? x : y);
        Binary(Prims.Atan2, (t, x, y) => Math.Atan2(x, y));
        Binary(Prims.And, (t, x, y) => (long)x & (long)y);
        Binary(Prims.Or, (t, x, y) => (long)x | (long)y);
        Binary(Prims.Xor, (t, x, y) => (long)x ^ (long)y);
        Binary(Prims.ShiftLeft, (t, x, y) =>
        {
            int bits = Bits(t);
            long count = Signed(y, t);
            return count < 0 || count >= bits ? 0 : (double)(ulong)(((ulong)(long)x << (int)count) & Mask(bits));
        });
        Binary(Prims.ShiftRightLogical, (t, x, y) =>
        {
            int bits = Bits(t);
            long count = Signed(y, t);
            return count < 0 || count >= bits ? 0 : (double)(((ulong)(long)x & Mask(bits)) >> (int)count);
        });
        Binary(Prims.ShiftRightArithmetic, (t, x, y) =>
        {
            int bits = Bits(t);
            long count = Signed(y, t);
            // Value of the bit pattern read as signed, divided by 2^count rounding toward -inf.
            double s = Signed(x, t);
            if (count < 0 || count >= bits) return s < 0 ? -1 : 0;
            return Math.Floor(s / Math.Pow(2, count));
        });
        Compare(Prims.Eq, (x, y) => x == y);
        Compare(Prims.Ne, (x, y) => x != y);
        Compare(Prims.Lt, (x, y) => x < y);
        Compare(Prims.Le, (x, y) => x <= y);
        Compare(Prims.Gt, (x, y) => x > y);
        Compare(Prims.Ge, (x, y) => x >= y);
        Rules[Prims.Select] = (p, ins, o) =>
        {
            var r = New(o[0]);
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] = ins[0].Data[i] != 0 ? ins[1].Data[i] : ins[2].Data[i];
            return new[] { r };
        };
    }

    static void Unary(Primitive prim, Func<DType, double, double> f)
        => Rules[prim] = (p, ins, o) =>
        {
            var r = New(o[0]);
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] = f(ins[0].DType, ins[0].Data[i]);
            return new[] { r };
        };

    static void Binary(Primitive prim, Func<DType, double, double, double> f)
        => Rules[prim] = (p, ins, o) =>
        {
            var r = New(o[0]);
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] = f(ins[0].DType, ins[0].Data[i], ins[1].Data[i]);
            return new[] { r };
        };

    static void Compare(Primitive prim, Func<double, double, bool> f)
        => Rules[prim] = (p, ins, o) =>
        {
            var r = New(o[0]);
            for (int i = 0; i < r.Data.Length; i++) r.Data[i] = f(ins[0].Data[i], ins[1].Data[i]) ? 1 : 0;
            return new[] { r };
        };

    static int Bits(DType t) => t == DType.UInt8 ? 8 : 32;
    static ulong Mask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>The value of an integer's bit pattern read as a signed (two's complement) number.</summary>
    static long Signed(double v, DType t)
    {
        int bits = Bits(t);
        long u = (long)((ulong)(long)v & Mask(bits));
        return u >= 1L << (bits - 1) ? u - (1L << bits) : u;
    }

    /// <summary>C fmod: x - trunc(x/y)*y computed exactly (sign of x).</summary>
    static double CFmod(double x, double y) => x % y;

    /// <summary>erf: alternating Taylor series for |x| &lt;= 2, even continued fraction for erfc beyond.</summary>
    public static double RefErf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        if (a <= 2)
        {
            double sum = 0, pow = x, fact = 1;
            for (int n = 0; n < 100; n++)
            {
                if (n > 0) { pow *= -x * x; fact *= n; }
                double term = pow / (fact * (2 * n + 1));
                sum += term;
                if (Math.Abs(term) < 1e-18) break;
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        double r = 1 - RefErfc(a);
        return x < 0 ? -r : r;
    }

    /// <summary>erfc for x &gt; 2: (2x/sqrt(pi)) e^{-x^2} / (2x^2+1 - 1*2/(2x^2+5 - 3*4/(2x^2+9 - ...))).</summary>
    public static double RefErfc(double x)
    {
        if (x < 2) return 1 - RefErf(x);
        if (x > 30) return 0;
        double z2 = 2 * x * x, f = z2 + 1 + 4 * 150;
        for (int k = 150; k >= 1; k--) f = z2 + 1 + 4 * (k - 1) - (2.0 * k - 1) * (2.0 * k) / f;
        return 2 * x / Math.Sqrt(Math.PI) * Math.Exp(-x * x) / f;
    }

    /// <summary>erf⁻¹ by bisection (on erfc for y &gt; 0.5, so values near 1 keep their precision).</summary>
    public static double RefErfInv(double y)
    {
        if (double.IsNaN(y) || Math.Abs(y) > 1) return double.NaN;
        if (Math.Abs(y) == 1) return y * double.PositiveInfinity;
        if (y == 0) return y;
        double a = Math.Abs(y), lo = 0, hi = 10;
        while (true)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            bool below = a > 0.5 ? RefErfc(mid) > 1 - a : RefErf(mid) < a;
            if (below) lo = mid; else hi = mid;
        }
        return y < 0 ? -lo : lo;
    }
}
