namespace Stax.Optim;

// optax's rescaling transformations beyond Adam (optax/_src/transform.py, optax/transforms/_clipping.py,
// optax/transforms/_accumulation.py), with optax's defaults and the same order of operations.
public static partial class Optax
{
    static object? FullLike(object? tree, double value) => Map(tree, t => Np.FullLike(t, value));

    /// <summary>Maps <paramref name="f"/>(update, param) leaf by leaf; the parameters are required (optax's NO_PARAMS_MSG).</summary>
    static object? MapWithParams(string who, object? updates, object? parameters, Func<Tensor, Tensor, Tensor> f)
    {
        if (parameters is null && Tree.Leaves(updates).Length > 0)
            throw new ArgumentException($"{who}: the parameters are required; pass them to Update(updates, state, params)");
        var (ul, ud) = Tree.Flatten(updates);
        var (pl, pd) = Tree.Flatten(parameters);
        Tree.CheckSame(pd, ud, who, "the parameters", "the updates");
        return Tree.Unflatten(ud, ul.Select((u, i) => f(u, pl[i])).ToArray());
    }

    /// <summary>
    /// <c>optax.scale_by_rss</c> (Adagrad's rescaling): <c>s ← s + g²</c> (s starts at
    /// <paramref name="initialAccumulatorValue"/>), <c>updates = g * (s &gt; 0 ? rsqrt(s + eps) : 0)</c>.
    /// State <see cref="ScaleByRssState"/>.
    /// </summary>
    public static GradientTransformation ScaleByRss(double initialAccumulatorValue = 0.1, double eps = 1e-7)
        => new(p => new ScaleByRssState(FullLike(p, initialAccumulatorValue)), (u, s, _) =>
        {
            var st = State<ScaleByRssState>(s, "ScaleByRss");
            var sum = Map2("ScaleByRss", st.SumOfSquares, u, (t, g) => g * g + t);
            var updates = Map2("ScaleByRss", sum, u, (t, g) => Np.Where(t > 0, Lax.Rsqrt(t + eps), 0.0) * g);
            return (updates, new ScaleByRssState(sum));
        }, "scale_by_rss");

    /// <summary>
    /// <c>optax.scale_by_rms</c> (RMSProp's rescaling): <c>nu ← (1 - decay) * g² + decay * nu</c> (nu starts at
    /// <paramref name="initialScale"/>), optionally bias-corrected (<c>nu / (1 - decay^count)</c>);
    /// <c>updates = g * rsqrt(nu + eps)</c>, or <c>g / (sqrt(nu) + eps)</c> when <paramref name="epsInSqrt"/> is false.
    /// State <see cref="ScaleByRmsState"/>, or <see cref="ScaleByRmsWithCountState"/> with <paramref name="biasCorrection"/>.
    /// </summary>
    public static GradientTransformation ScaleByRms(double decay = 0.9, double eps = 1e-8, double initialScale = 0.0, bool epsInSqrt = true, bool biasCorrection = false)
        => new(p => biasCorrection ? new ScaleByRmsWithCountState(Count0(), FullLike(p, initialScale)) : new ScaleByRmsState(FullLike(p, initialScale)), (u, s, _) =>
        {
            var (oldNu, count) = biasCorrection
                ? (State<ScaleByRmsWithCountState>(s, "ScaleByRms").Nu, Increment(State<ScaleByRmsWithCountState>(s, "ScaleByRms").Count))
                : (State<ScaleByRmsState>(s, "ScaleByRms").Nu, null);
            var nu = Map2("ScaleByRms", oldNu, u, (v, g) => (1 - decay) * (g * g) + decay * v);
            var updates = Map2("ScaleByRms", nu, u, (v, g) =>
            {
                var vHat = count is null ? v : BiasCorrection(v, decay, count);
                return (epsInSqrt ? Lax.Rsqrt(vHat + eps) : 1 / (Np.Sqrt(vHat) + eps)) * g;
            });
            return (updates, count is null ? new ScaleByRmsState(nu) : new ScaleByRmsWithCountState(count, nu));
        }, "scale_by_rms");

    /// <summary>
    /// <c>optax.scale_by_stddev</c> (centered RMSProp): as <see cref="ScaleByRms"/> but also tracks
    /// <c>mu ← (1 - decay) * g + decay * mu</c> and divides by the root of <c>nu - mu²</c>.
    /// State <see cref="ScaleByRStdDevState"/>, or <see cref="ScaleByRStdDevWithCountState"/> with <paramref name="biasCorrection"/>.
    /// </summary>
    public static GradientTransformation ScaleByStddev(double decay = 0.9, double eps = 1e-8, double initialScale = 0.0, bool epsInSqrt = true, bool biasCorrection = false)
        => new(p => biasCorrection
            ? new ScaleByRStdDevWithCountState(Count0(), Map(p, Np.ZerosLike), FullLike(p, initialScale))
            : new ScaleByRStdDevState(Map(p, Np.ZerosLike), FullLike(p, initialScale)), (u, s, _) =>
        {
            object? oldMu, oldNu;
            Tensor? count = null;
            if (biasCorrection)
            {
                var st = State<ScaleByRStdDevWithCountState>(s, "ScaleByStddev");
                (oldMu, oldNu, count) = (st.Mu, st.Nu, Increment(st.Count));
            }
            else
            {
                var st = State<ScaleByRStdDevState>(s, "ScaleByStddev");
                (oldMu, oldNu) = (st.Mu, st.Nu);
            }
            var mu = Map2("ScaleByStddev", oldMu, u, (m, g) => (1 - decay) * g + decay * m);
            var nu = Map2("ScaleByStddev", oldNu, u, (v, g) => (1 - decay) * (g * g) + decay * v);
            var scaling = Map2("ScaleByStddev", mu, nu, (m, v) =>
            {
                var (mHat, vHat) = count is null ? (m, v) : (BiasCorrection(m, decay, count), BiasCorrection(v, decay, count));
                return epsInSqrt ? Lax.Rsqrt(vHat - mHat * mHat + eps) : 1 / (Np.Sqrt(vHat - mHat * mHat) + eps);
            });
            var updates = Map2("ScaleByStddev", scaling, u, (c, g) => c * g);
            return (updates, count is null ? new ScaleByRStdDevState(mu, nu) : new ScaleByRStdDevWithCountState(count, mu, nu));
        }, "scale_by_stddev");

    /// <summary>
    /// <c>optax.scale_by_adamax</c>: <c>mu ← (1 - b1) * g + b1 * mu; nu ← max(|g| + eps, b2 * nu)</c>;
    /// <c>updates = mu / (1 - b1^count) / nu</c> (no bias correction for the infinity norm). State <see cref="ScaleByAdamState"/>.
    /// </summary>
    public static GradientTransformation ScaleByAdamax(double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
        => new(p => new ScaleByAdamState(Count0(), Map(p, Np.ZerosLike), Map(p, Np.ZerosLike)), (u, s, _) =>
        {
            var st = State<ScaleByAdamState>(s, "ScaleByAdamax");
            var count = Increment(st.Count);
            var mu = Map2("ScaleByAdamax", st.Mu, u, (m, g) => (1 - b1) * g + b1 * m);
            var nu = Map2("ScaleByAdamax", st.Nu, u, (v, g) => Np.Maximum(Np.Abs(g) + eps, b2 * v));
            var updates = Map2("ScaleByAdamax", mu, nu, (m, v) => BiasCorrection(m, b1, count) / v);
            return (updates, new ScaleByAdamState(count, mu, nu));
        }, "scale_by_adamax");

    /// <summary>
    /// <c>optax.scale_by_lion</c> (mode "hard"): <c>updates = sign((1 - b1) * g + b1 * mu)</c>, then
    /// <c>mu ← (1 - b2) * g + b2 * mu</c>. State <see cref="ScaleByLionState"/>.
    /// </summary>
    public static GradientTransformation ScaleByLion(double b1 = 0.9, double b2 = 0.99)
        => new(p => new ScaleByLionState(Count0(), Map(p, Np.ZerosLike)), (u, s, _) =>
        {
            var st = State<ScaleByLionState>(s, "ScaleByLion");
            var updates = Map2("ScaleByLion", st.Mu, u, (m, g) => Np.Sign((1 - b1) * g + b1 * m));
            var mu = Map2("ScaleByLion", st.Mu, u, (m, g) => (1 - b2) * g + b2 * m);
            return (updates, new ScaleByLionState(Increment(st.Count), mu));
        }, "scale_by_lion");

    /// <summary>
    /// <c>optax.scale_by_radam</c> (Rectified Adam): Adam's moments; with
    /// <c>ro = ro∞ - 2 count b2^count / (1 - b2^count)</c>, <c>ro∞ = 2 / (1 - b2) - 1</c>, the update is
    /// <c>r * mu_hat / (sqrt(nu_hat + epsRoot) + eps)</c> (r the variance rectification) where
    /// <c>ro &gt;= threshold</c>, and plain <c>mu_hat</c> before. <paramref name="nesterov"/> as in
    /// <see cref="ScaleByAdam"/>. State <see cref="ScaleByAdamState"/>.
    /// </summary>
    public static GradientTransformation ScaleByRadam(double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0, double threshold = 5.0, bool nesterov = false)
    {
        double roInf = 2.0 / (1.0 - b2) - 1.0;
        return new(p => new ScaleByAdamState(Count0(), Map(p, Np.ZerosLike), Map(p, Np.ZerosLike)), (u, s, _) =>
        {
            var st = State<ScaleByAdamState>(s, "ScaleByRadam");
            var mu = Map2("ScaleByRadam", st.Mu, u, (m, g) => (1 - b1) * g + b1 * m);
            var nu = Map2("ScaleByRadam", st.Nu, u, (v, g) => (1 - b2) * (g * g) + b2 * v);
            var count = Increment(st.Count);
            // ro and r in float32, as optax computes them from the int32 count.
            var b2t = Np.Power(Tensor.Scalar(b2, DType.Float32), Lax.ConvertElementType(count, DType.Float32));
            var ro = roInf - 2 * Lax.ConvertElementType(count, DType.Float32) * b2t / (1 - b2t);
            var r = Np.Sqrt((ro - 4.0) * (ro - 2.0) * roInf / ((roInf - 4.0) * (roInf - 2.0) * ro));
            var muHat = nesterov
                ? Map2("ScaleByRadam", mu, u, (m, g) => b1 * BiasCorrection(m, b1, Increment(count)) + (1 - b1) * BiasCorrection(g, b1, count))
                : Map(mu, m => BiasCorrection(m, b1, count));
            var updates = Map2("ScaleByRadam", muHat, nu, (m, v) =>
                Np.Where(ro >= threshold, Lax.ConvertElementType(r, m.DType) * m / (Np.Sqrt(BiasCorrection(v, b2, count) + epsRoot) + eps), m));
            return (updates, new ScaleByAdamState(count, mu, nu));
        }, "scale_by_radam");
    }

    /// <summary>optax's safe_norm: the 2-norm of all of <paramref name="x"/>, or <paramref name="minNorm"/> when not above it (with a gradient that is not NaN there).</summary>
    static Tensor SafeNorm(Tensor x, double minNorm)
    {
        var norm = Np.Sqrt(Np.Sum(x * x));
        var masked = Np.Where(norm <= minNorm, Np.OnesLike(x), x);
        return Np.Where(norm <= minNorm, minNorm, Np.Sqrt(Np.Sum(masked * masked)));
    }

    /// <summary>optax's safe_root_mean_squares: <c>max(sqrt(mean(x²)), minRms)</c> with a gradient that is not NaN at 0.</summary>
    static Tensor SafeRootMeanSquares(Tensor x, double minRms)
    {
        var rms = Np.Sqrt(Np.Mean(x * x));
        var masked = Np.Where(rms <= minRms, Np.OnesLike(x), x);
        return Np.Where(rms <= minRms, minRms, Np.Sqrt(Np.Mean(masked * masked)));
    }

    /// <summary>
    /// <c>optax.scale_by_trust_ratio</c> (LAMB, LARS): each leaf's update is multiplied by
    /// <c>trustCoefficient * ‖param‖ / (‖update‖ + eps)</c> (norms over the whole leaf, at least
    /// <paramref name="minNorm"/>), or by 1 where either norm is 0. Needs the parameters.
    /// </summary>
    public static GradientTransformation ScaleByTrustRatio(double minNorm = 0.0, double trustCoefficient = 1.0, double eps = 0.0)
        => new(_ => null, (u, s, p) => (MapWithParams("ScaleByTrustRatio", u, p, (g, x) =>
        {
            var paramNorm = SafeNorm(x, minNorm);
            var updateNorm = SafeNorm(g, minNorm);
            var ratio = trustCoefficient * paramNorm / (updateNorm + eps);
            var zeroNorm = Np.BitwiseOr(paramNorm.Eq(0), updateNorm.Eq(0));
            return g * Np.Where(zeroNorm, Tensor.Scalar(1.0, x.DType), ratio);
        }), s), "scale_by_trust_ratio");

    /// <summary>
    /// <c>optax.ema</c>: <c>ema ← (1 - decay) * g + decay * ema</c>; the updates are the average, divided by
    /// <c>1 - decay^count</c> when <paramref name="debias"/>. The average is kept in
    /// <paramref name="accumulatorDtype"/> when given. State <see cref="EmaState"/>.
    /// </summary>
    public static GradientTransformation Ema(double decay, bool debias = true, DType? accumulatorDtype = null)
        => new(p => new EmaState(Count0(), Map(p, t => accumulatorDtype is DType d ? Np.Zeros(t.Shape, d) : Np.ZerosLike(t))), (u, s, _) =>
        {
            var st = State<EmaState>(s, "Ema");
            var ema = Map2("Ema", st.Ema, u, (e, g) => (1 - decay) * g + decay * e);
            var count = Increment(st.Count);
            var updates = debias ? Map(ema, e => BiasCorrection(e, decay, count)) : ema;
            var kept = accumulatorDtype is DType dt ? Map(ema, e => Lax.ConvertElementType(e, dt)) : ema;
            return (updates, new EmaState(count, kept));
        }, "ema");

    /// <summary><c>optax.clip_by_block_rms</c>: each leaf is divided by <c>max(1, rms(leaf) / threshold)</c>.</summary>
    public static GradientTransformation ClipByBlockRms(double threshold)
        => new(_ => null, (u, s, _) => (Map(u, g => g / Np.Maximum(1.0, Np.Sqrt(Np.Mean(g * g)) / threshold)), s), "clip_by_block_rms");

    /// <summary><c>optax.scale_by_param_block_rms</c>: each leaf's update times <c>max(rms(param), minScale)</c>. Needs the parameters.</summary>
    public static GradientTransformation ScaleByParamBlockRms(double minScale = 1e-3)
        => new(_ => null, (u, s, p) => (MapWithParams("ScaleByParamBlockRms", u, p, (g, x) => g * SafeRootMeanSquares(x, minScale)), s), "scale_by_param_block_rms");
}
