namespace Stax.Backends.Cpu.Simd;

/// <summary>float64 functions that System.Math lacks (or computes inaccurately), scalar.</summary>
internal static class MathF64
{
    const double TwoOverSqrtPi = 1.1283791670955126;

    /// <summary>log(1 + x) with Goldberg's correction of the rounded 1 + x.</summary>
    public static double Log1p(double x)
    {
        double u = 1 + x;
        if (u == 1) return x;
        if (double.IsPositiveInfinity(u)) return u;
        return Math.Log(u) * (x / (u - 1));
    }

    /// <summary>e^x - 1 with Kahan's correction.</summary>
    public static double Expm1(double x)
    {
        double u = Math.Exp(x);
        if (u == 1) return x;
        double um1 = u - 1;
        if (um1 == -1 || double.IsPositiveInfinity(u)) return um1;
        return um1 * (x / Math.Log(u));
    }

    public static double Logistic(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    // erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (1*3*...*(2n+1)): positive terms, for |x| < 2.
    static double ErfSeries(double x)
    {
        double x2 = x * x, term = x, sum = x;
        for (int n = 1; n < 200; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (Math.Abs(term) < 1e-17 * Math.Abs(sum)) break;
        }
        return TwoOverSqrtPi * Math.Exp(-x2) * sum;
    }

    // erfc(x) for x >= 2 by the continued fraction e^{-x^2}/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).
    // e^{-x^2} = e^{-h^2} e^{-(x-h)(x+h)} with h^2 exact, so the rounding of x^2 stays out of the tail.
    static double ErfcFraction(double x)
    {
        if (x > 27) return 0;
        double f = x;
        for (int k = 120; k >= 1; k--) f = x + k * 0.5 / f;
        double h = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(x) & unchecked((long)0xFFFFFFFFF8000000UL));
        return Math.Exp(-(x - h) * (x + h)) / (f * 1.7724538509055160) * Math.Exp(-(h * h));
    }

    static double ErfcPositive(double x) => x < 2 ? 1 - ErfSeries(x) : ErfcFraction(x);

    /// <summary>erfc(x) = 1 - erf(x), with relative accuracy in the right tail.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return x;
        return x < 0 ? 2 - ErfcPositive(-x) : ErfcPositive(x);
    }

    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double a = Math.Abs(x);
        if (a < 2) return ErfSeries(x);
        double r = 1 - ErfcFraction(a);
        return x < 0 ? -r : r;
    }

    /// <summary>erf⁻¹: float Giles guess, then Newton steps (on erfc for |y| &gt; 0.5, for accuracy near ±1).</summary>
    public static double ErfInv(double y)
    {
        if (double.IsNaN(y) || Math.Abs(y) > 1) return double.NaN;
        if (Math.Abs(y) == 1) return y * double.PositiveInfinity;
        if (y == 0) return y;
        double a = Math.Abs(y);
        float guessIn = (float)Math.Min(a, 0.99999994);
        double x = MathF32.ErfInv(new F1(guessIn)).V;
        if (a > 0.99999994) x = Math.Sqrt(-Math.Log((1 - a) * (1 + a)));
        for (int it = 0; it < 6; it++)
        {
            double deriv = TwoOverSqrtPi * Math.Exp(-x * x);
            if (deriv == 0) break;
            double f = a > 0.5 ? (1 - a) - ErfcPositive(x) : ErfSeries(x) - a;
            x -= f / deriv;
        }
        return y < 0 ? -x : x;
    }
}
