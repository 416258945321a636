namespace Stax;

public static partial class Rng
{
    /// <summary>
    /// Poisson samples with rate <paramref name="lam"/> (jax.random.poisson, method "exact"), int32:
    /// where lam &lt; 10 Knuth's algorithm (count uniforms until their log-sum falls below -lam),
    /// elsewhere Hörmann's transformed rejection; both are whole-array while loops that split the
    /// key every round, as JAX's, and lam == 0 gives 0. lam is converted to float32 and broadcasts
    /// to <paramref name="shape"/> (default: lam's shape). The rejection branch's log k! is a
    /// Stirling series here (JAX uses lgamma), so a rare draw near its acceptance threshold can
    /// differ from JAX's; the Knuth branch is JAX's sequence.
    /// </summary>
    public static Tensor Poisson(Key key, Tensor lam, Shape? shape = null)
    {
        const string op = "Rng.Poisson";
        RequireSingle(op, key);
        var s = shape ?? lam.Shape;
        var l = BroadcastBound(op, "lam", lam, s, DType.Float32);
        var useKnuth = Lax.Or(Lax.Ne(l, l), Lax.Lt(l, Full(s, 10, DType.Float32)));
        var lamKnuth = Lax.Select(useKnuth, l, Full(s, 0, DType.Float32));
        var lamRejection = Lax.Select(useKnuth, Full(s, 1e5, DType.Float32), l);
        var maxIters = Tensor.Scalar(int.MaxValue, DType.Int32);
        var result = Lax.Select(useKnuth, PoissonKnuth(key, lamKnuth, s, maxIters), PoissonRejection(key, lamRejection, s, maxIters));
        return Lax.Select(Lax.Eq(l, Full(s, 0, DType.Float32)), Full(s, 0, DType.Int32), result);
    }

    static Tensor PoissonKnuth(Key key, Tensor lam, Shape s, Tensor maxIters)
    {
        var negLam = Lax.Neg(lam);
        var one = Tensor.Scalar(1, DType.Int32);
        var res = ControlFlow.WhileLoop(
            c => Lax.And(Np.Any(Lax.Gt(c[3], negLam)), Lax.Lt(c[0], maxIters)),
            c =>
            {
                var ks = Split(new Key(c[2]), 2);
                var k = Lax.Select(Lax.Gt(c[3], negLam), Lax.Add(c[1], Full(s, 1, DType.Int32)), c[1]);
                var u = Uniform(ks[1], s, DType.Float32);
                return new[] { Lax.Add(c[0], one), k, ks[0].Data, Lax.Add(c[3], Lax.Log(u)) };
            },
            new[] { Tensor.Scalar(0, DType.Int32), Full(s, 0, DType.Int32), key.Data, Full(s, 0, DType.Float32) });
        return Lax.Sub(res[1], Full(s, 1, DType.Int32));
    }

    static Tensor PoissonRejection(Key key, Tensor lam, Shape s, Tensor maxIters)
    {
        Tensor F(double v) => Full(s, v, DType.Float32);
        var logLam = Lax.Log(lam);
        var b = Lax.Add(F(0.931), Lax.Mul(F(2.53), Lax.Sqrt(lam)));
        var a = Lax.Add(F(-0.059), Lax.Mul(F(0.02483), b));
        var invAlpha = Lax.Add(F(1.1239), Lax.Div(F(1.1328), Lax.Sub(b, F(3.4))));
        var vR = Lax.Sub(F(0.9277), Lax.Div(F(3.6224), Lax.Sub(b, F(2))));
        var res = ControlFlow.WhileLoop(
            c => Lax.And(Np.Any(Lax.Not(c[2])), Lax.Lt(c[0], maxIters)),
            c =>
            {
                var ks = Split(new Key(c[3]), 3);
                var u = Lax.Sub(Uniform(ks[1], s, DType.Float32), F(0.5));
                var v = Uniform(ks[2], s, DType.Float32);
                var us = Lax.Sub(F(0.5), Lax.Abs(u));
                var k = Lax.Floor(Lax.Add(Lax.Add(Lax.Mul(Lax.Add(Lax.Div(Lax.Mul(F(2), a), us), b), u), lam), F(0.43)));
                var sv = Lax.Log(Lax.Div(Lax.Mul(v, invAlpha), Lax.Add(Lax.Div(a, Lax.Mul(us, us)), b)));
                var t = Lax.Sub(Lax.Add(Lax.Neg(lam), Lax.Mul(k, logLam)), LogFactorial(k));
                var accept1 = Lax.And(Lax.Ge(us, F(0.07)), Lax.Le(v, vR));
                var reject = Lax.Or(Lax.Lt(k, F(0)), Lax.And(Lax.Lt(us, F(0.013)), Lax.Gt(v, us)));
                var accept = Lax.Or(accept1, Lax.And(Lax.Not(reject), Lax.Le(sv, t)));
                var kOut = Lax.Select(accept, k, c[1]);
                return new[] { Lax.Add(c[0], Tensor.Scalar(1, DType.Int32)), kOut, Lax.Or(c[2], accept), ks[0].Data };
            },
            new[] { Tensor.Scalar(0, DType.Int32), F(-1), Lax.BroadcastInDim(Tensor.Scalar(0, DType.Bool), s), key.Data });
        return Lax.ConvertElementType(res[1], DType.Int32);
    }

    /// <summary>
    /// log(k!) = lgamma(k + 1) for float32 k ≥ 0: Stirling's series at k + 9 (error below 1e-9
    /// there) minus log(k+1) + … + log(k+8). Negative k gives NaN (those draws are rejected).
    /// </summary>
    static Tensor LogFactorial(Tensor k)
    {
        Tensor C(double v) => Const(k, v);
        var x = Lax.Add(k, C(1));
        var logShift = Lax.Log(x);   // a sum of logarithms: the product would overflow float32 for large k
        for (int i = 1; i < 8; i++) logShift = Lax.Add(logShift, Lax.Log(Lax.Add(x, C(i))));
        var z = Lax.Add(x, C(8));
        var iz = Lax.Div(C(1), z);
        var iz2 = Lax.Mul(iz, iz);
        var series = Lax.Mul(iz, Lax.Sub(C(1.0 / 12), Lax.Mul(iz2, Lax.Sub(C(1.0 / 360), Lax.Mul(iz2, C(1.0 / 1260))))));
        var stirling = Lax.Add(Lax.Add(Lax.Sub(Lax.Mul(Lax.Sub(z, C(0.5)), Lax.Log(z)), z), C(0.91893853320467274)), series);
        return Lax.Sub(stirling, logShift);
    }
}
