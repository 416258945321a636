namespace Stax.Optim;

/// <summary>Creates the initial state of a <see cref="GradientTransformation"/> from the parameter tree.</summary>
public delegate object? TransformInit(object? parameters);

/// <summary>
/// Transforms an update tree (gradients at the start of a chain) given the transformation's state
/// and, for transformations that need them, the current parameters; returns the new updates and state.
/// </summary>
public delegate (object? Updates, object? State) TransformUpdate(object? updates, object? state, object? parameters);

/// <summary>
/// An optax-style gradient transformation: <c>Init(params) → state</c> and
/// <c>Update(updates, state, params) → (updates, state)</c>. Transformations compose with
/// <see cref="Optax.Chain"/>; the final updates are added to the parameters with
/// <see cref="Optax.ApplyUpdates{T}"/>. States are trees of tensors (records registered as tree nodes,
/// arrays, <c>null</c> for "no state"), so a whole train step can run under <c>Jit</c>.
/// <code>var opt = Optax.Chain(Optax.ClipByGlobalNorm(1.0), Optax.ScaleByAdam(), Optax.Scale(-1e-3));
/// var state = opt.Init(parameters);
/// var (updates, newState) = opt.Update(grads, state, parameters);
/// parameters = Optax.ApplyUpdates(parameters, updates);</code>
/// </summary>
public sealed class GradientTransformation
{
    readonly TransformInit _init;
    readonly TransformUpdate _update;

    /// <summary>Builds a transformation from its two functions.</summary>
    public GradientTransformation(TransformInit init, TransformUpdate update, string name = "transformation")
    {
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(update);
        _init = init;
        _update = update;
        Name = name;
    }

    /// <summary>The transformation's name (optax's function name), used in error messages.</summary>
    public string Name { get; }

    /// <summary>The initial state for the parameter tree <paramref name="parameters"/>.</summary>
    public object? Init(object? parameters) => _init(parameters);

    /// <summary>Transforms <paramref name="updates"/>; <paramref name="parameters"/> is needed by e.g. <see cref="Optax.AddDecayedWeights"/>.</summary>
    public (object? Updates, object? State) Update(object? updates, object? state, object? parameters = null) => _update(updates, state, parameters);

    /// <summary>The pair <c>(init, update)</c>, as optax's NamedTuple unpacks.</summary>
    public void Deconstruct(out TransformInit init, out TransformUpdate update)
    {
        init = _init;
        update = _update;
    }

    /// <inheritdoc/>
    public override string ToString() => $"GradientTransformation({Name})";
}

/// <summary>State of <see cref="Optax.ScaleByAdam"/>: the step count (int32) and the first and second moment trees.</summary>
public sealed record ScaleByAdamState(Tensor Count, object? Mu, object? Nu)
{
    static ScaleByAdamState() => Tree.Register<ScaleByAdamState>(
        s => (new object?[] { s.Count, s.Mu, s.Nu }, new[] { "count", "mu", "nu" }),
        c => new ScaleByAdamState((Tensor)c[0]!, c[1], c[2]));
}

/// <summary>State of <see cref="Optax.ScaleBySchedule"/>: the step count (int32).</summary>
public sealed record ScaleByScheduleState(Tensor Count)
{
    static ScaleByScheduleState() => Tree.Register<ScaleByScheduleState>(
        s => (new object?[] { s.Count }, new[] { "count" }),
        c => new ScaleByScheduleState((Tensor)c[0]!));
}

/// <summary>State of <see cref="Optax.Trace"/>: the momentum tree.</summary>
public sealed record TraceState(object? Trace)
{
    static TraceState() => Tree.Register<TraceState>(
        s => (new object?[] { s.Trace }, new[] { "trace" }),
        c => new TraceState(c[0]));
}

/// <summary>
/// Optax-style gradient transformations with optax's semantics and defaults (<c>optax.chain</c>,
/// <c>clip_by_global_norm</c>, <c>add_decayed_weights</c>, <c>scale_by_adam</c>, <c>scale</c>,
/// <c>scale_by_schedule</c>, <c>trace</c>, and the other <c>scale_by_*</c> transformations), the optimizer
/// aliases (<see cref="Sgd(double, double?, bool)"/>, <see cref="Adam(double, double, double, double, double, bool)"/>,
/// <see cref="AdamW(double, double, double, double, double, double, Func{TreePath, Tensor, bool}?)"/>, <see cref="Rmsprop"/>,
/// <see cref="Adafactor"/>, ...), optax's schedules (<see cref="CosineDecaySchedule"/>, ...) and losses
/// (<see cref="L2Loss"/>, ...). Unlike <see cref="Optimizers"/>, transformations return <em>updates</em>, which
/// <see cref="ApplyUpdates{T}"/> adds to the parameters; the aliases already flip the sign.
/// docs/jax-names.md maps every optax name to its Stax spelling.
/// <code>var opt = Optax.Chain(Optax.ClipByGlobalNorm(1.0), Optax.AddDecayedWeights(1e-4),
///     Optax.ScaleByAdam(), Optax.ScaleBySchedule(Schedules.ExponentialDecay(1.0, 1000, 0.5)), Optax.Scale(-1e-3));</code>
/// </summary>
public static partial class Optax
{
    static Tensor Count0() => Tensor.Scalar(0, DType.Int32);

    /// <summary>count + 1, saturating at int32's maximum (optax's safe_int32_increment).</summary>
    static Tensor Increment(Tensor count) => Np.Where(count < int.MaxValue, count + 1, count);

    static object? Map(object? tree, Func<Tensor, Tensor> f) => Tree.Map(f, tree);

    static object? Map2(string who, object? a, object? b, Func<Tensor, Tensor, Tensor> f)
    {
        var (la, da) = Tree.Flatten(a);
        var (lb, db) = Tree.Flatten(b);
        Tree.CheckSame(da, db, who, "the state", "the updates");
        var outs = new Tensor[la.Length];
        for (int i = 0; i < outs.Length; i++) outs[i] = f(la[i], lb[i]);
        return Tree.Unflatten(da, outs);
    }

    static T State<T>(object? state, string who) where T : class => state as T
        ?? throw new ArgumentException($"{who}: expected a state of type {typeof(T).Name}, got {(state is null ? "null" : state.GetType().Name)}");

    /// <summary>The transformation that leaves updates unchanged (state <c>null</c>).</summary>
    public static GradientTransformation Identity() => new(_ => null, (u, s, _) => (u, s), "identity");

    /// <summary>
    /// <c>optax.chain</c>: applies the transformations in order, each to the previous one's updates.
    /// The state is an <c>object?[]</c> with one state per transformation.
    /// </summary>
    public static GradientTransformation Chain(params GradientTransformation[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        for (int i = 0; i < transforms.Length; i++)
            if (transforms[i] is null) throw new ArgumentException($"Chain: transformation {i} is null");
        var ts = transforms.ToArray();
        return new GradientTransformation(p => ts.Select(t => t.Init(p)).ToArray(), (u, s, p) =>
        {
            if (s is not object?[] states || states.Length != ts.Length)
                throw new ArgumentException($"Chain: expected a state array of {ts.Length} states (from Init), got {(s is object?[] a ? $"{a.Length} states" : s?.GetType().Name ?? "null")}");
            var news = new object?[ts.Length];
            for (int i = 0; i < ts.Length; i++) (u, news[i]) = ts[i].Update(u, states[i], p);
            return (u, news);
        }, "chain(" + string.Join(", ", ts.Select(t => t.Name)) + ")");
    }

    /// <summary><c>optax.global_norm</c>: <c>sqrt(Σ over leaves of Σ x²)</c>.</summary>
    public static Tensor GlobalNorm(object? tree) => Optimizers.L2Norm(tree);

    /// <summary>
    /// <c>optax.clip_by_global_norm</c>: when the global norm of the updates is at least
    /// <paramref name="maxNorm"/>, every update is scaled by <c>maxNorm / norm</c>; otherwise unchanged.
    /// </summary>
    public static GradientTransformation ClipByGlobalNorm(double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentException($"ClipByGlobalNorm: maxNorm must be positive, got {maxNorm}");
        return new GradientTransformation(_ => null, (u, s, _) =>
        {
            var norm = GlobalNorm(u);
            var keep = norm < maxNorm;
            return (Map(u, t => Np.Where(keep, t, t / Lax.ConvertElementType(norm, t.DType) * maxNorm)), s);
        }, "clip_by_global_norm");
    }

    /// <summary>
    /// <c>optax.add_decayed_weights</c>: <c>updates + weightDecay * params</c> (needs the parameters in
    /// Update). <paramref name="mask"/>, when given, picks the leaves that decay (by key path and value,
    /// e.g. <c>(path, p) =&gt; p.Rank &gt; 1</c> to skip biases); the others pass unchanged.
    /// </summary>
    public static GradientTransformation AddDecayedWeights(double weightDecay, Func<TreePath, Tensor, bool>? mask = null)
        => new(_ => null, (u, s, p) =>
        {
            if (p is null && Tree.Leaves(u).Length > 0)
                throw new ArgumentException("AddDecayedWeights: the parameters are required; pass them to Update(updates, state, params)");
            // optax skips a constant zero decay, so Inf/NaN parameters do not leak into the updates.
            if (weightDecay == 0) return (u, s);
            var (pl, pd) = Tree.FlattenWithPaths(p);
            var (ul, ud) = Tree.Flatten(u);
            Tree.CheckSame(pd, ud, "AddDecayedWeights", "the parameters", "the updates");
            var outs = new Tensor[ul.Length];
            for (int i = 0; i < outs.Length; i++)
            {
                var (path, x) = pl[i];
                outs[i] = mask is null || mask(path, x) ? ul[i] + weightDecay * x : ul[i];
            }
            return (Tree.Unflatten(ud, outs), s);
        }, "add_decayed_weights");

    /// <summary>
    /// <c>optax.scale_by_adam</c>: <c>mu ← b1 * mu + (1 - b1) * g; nu ← b2 * nu + (1 - b2) * g²; count ← count + 1;
    /// updates = (mu / (1 - b1^count)) / (sqrt(nu / (1 - b2^count) + epsRoot) + eps)</c>. With <paramref name="nesterov"/>
    /// (NAdam, Dozat 2016) the first moment used is <c>b1 * mu / (1 - b1^(count+1)) + (1 - b1) * g / (1 - b1^count)</c>.
    /// State <see cref="ScaleByAdamState"/>.
    /// </summary>
    public static GradientTransformation ScaleByAdam(double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0, bool nesterov = false)
        => new(p => new ScaleByAdamState(Count0(), Map(p, Np.ZerosLike), Map(p, Np.ZerosLike)), (u, s, _) =>
        {
            var st = State<ScaleByAdamState>(s, "ScaleByAdam");
            var mu = Map2("ScaleByAdam", st.Mu, u, (m, g) => (1 - b1) * g + b1 * m);
            var nu = Map2("ScaleByAdam", st.Nu, u, (v, g) => (1 - b2) * (g * g) + b2 * v);
            var count = Increment(st.Count);
            // optax: mu_hat = b1 * bc(mu, count + 1) + (1 - b1) * bc(g, count) for nesterov.
            var muHat = nesterov
                ? Map2("ScaleByAdam", mu, u, (m, g) => b1 * BiasCorrection(m, b1, Increment(count)) + (1 - b1) * BiasCorrection(g, b1, count))
                : Map(mu, m => BiasCorrection(m, b1, count));
            var updates = Map2("ScaleByAdam", muHat, nu, (m, v) => m / (Np.Sqrt(BiasCorrection(v, b2, count) + epsRoot) + eps));
            return (updates, new ScaleByAdamState(count, mu, nu));
        }, "scale_by_adam");

    /// <summary>
    /// optax's bias_correction: <c>moment / (1 - decay^count)</c>, the power computed in float32 (float64 for
    /// float64 moments) and cast to the moment's dtype, so bfloat16 moments never divide by a rounded-off 0.
    /// </summary>
    static Tensor BiasCorrection(Tensor moment, double decay, Tensor count)
    {
        var dt = moment.DType == DType.Float64 ? DType.Float64 : DType.Float32;
        var c = Lax.ConvertElementType(count, dt);
        return moment / Lax.ConvertElementType(1 - Np.Power(Tensor.Scalar(decay, dt), c), moment.DType);
    }

    /// <summary><c>optax.scale</c>: multiplies every update by <paramref name="stepSize"/> (state <c>null</c>).</summary>
    public static GradientTransformation Scale(double stepSize)
        => new(_ => null, (u, s, _) => (Map(u, t => t * stepSize), s), "scale");

    /// <summary>
    /// <c>optax.scale_by_schedule</c>: multiplies the updates by <c>schedule(count)</c>, where count is the
    /// number of updates done before this one (0 first). State <see cref="ScaleByScheduleState"/>.
    /// </summary>
    public static GradientTransformation ScaleBySchedule(Schedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return new(_ => new ScaleByScheduleState(Count0()), (u, s, _) =>
        {
            var st = State<ScaleByScheduleState>(s, "ScaleBySchedule");
            var lr = schedule(st.Count);
            return (Map(u, t => Lax.ConvertElementType(lr, t.DType) * t), new ScaleByScheduleState(Increment(st.Count)));
        }, "scale_by_schedule");
    }

    /// <summary><c>optax.scale_by_learning_rate</c>: <see cref="Scale"/> by <c>-learningRate</c> (or <c>+</c> with <paramref name="flipSign"/> false).</summary>
    public static GradientTransformation ScaleByLearningRate(double learningRate, bool flipSign = true)
        => Scale(flipSign ? -learningRate : learningRate);

    /// <summary><c>optax.scale_by_learning_rate</c> with a schedule: <see cref="ScaleBySchedule"/> by <c>-schedule(count)</c>.</summary>
    public static GradientTransformation ScaleByLearningRate(Schedule learningRate, bool flipSign = true)
    {
        ArgumentNullException.ThrowIfNull(learningRate);
        return flipSign ? ScaleBySchedule(c => -learningRate(c)) : ScaleBySchedule(learningRate);
    }

    /// <summary>
    /// <c>optax.trace</c> (momentum): <c>t ← g + decay * t</c>; the updates are <c>t</c>, or
    /// <c>g + decay * t</c> with <paramref name="nesterov"/>. State <see cref="TraceState"/>.
    /// </summary>
    public static GradientTransformation Trace(double decay, bool nesterov = false)
        => new(p => new TraceState(Map(p, Np.ZerosLike)), (u, s, _) =>
        {
            var st = State<TraceState>(s, "Trace");
            var t = Map2("Trace", st.Trace, u, (tr, g) => g + decay * tr);
            var updates = nesterov ? Map2("Trace", t, u, (tr, g) => g + decay * tr) : t;
            return (updates, new TraceState(t));
        }, "trace");

    /// <summary><c>optax.sgd</c>: optional momentum (<see cref="Trace"/>) then a step of <c>-learningRate</c>.</summary>
    public static GradientTransformation Sgd(double learningRate, double? momentum = null, bool nesterov = false)
        => Chain(momentum is double m ? Trace(m, nesterov) : Identity(), ScaleByLearningRate(learningRate));

    /// <summary><c>optax.sgd</c> with a learning-rate schedule.</summary>
    public static GradientTransformation Sgd(Schedule learningRate, double? momentum = null, bool nesterov = false)
        => Chain(momentum is double m ? Trace(m, nesterov) : Identity(), ScaleByLearningRate(learningRate));

    /// <summary><c>optax.adam</c>: <see cref="ScaleByAdam"/> then a step of <c>-learningRate</c>; <paramref name="nesterov"/> gives <c>optax.nadam</c>.</summary>
    public static GradientTransformation Adam(double learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0, bool nesterov = false)
        => Chain(ScaleByAdam(b1, b2, eps, epsRoot, nesterov), ScaleByLearningRate(learningRate));

    /// <summary><c>optax.adam</c> with a learning-rate schedule.</summary>
    public static GradientTransformation Adam(Schedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0, bool nesterov = false)
        => Chain(ScaleByAdam(b1, b2, eps, epsRoot, nesterov), ScaleByLearningRate(learningRate));

    /// <summary>
    /// <c>optax.adamw</c>: Adam with decoupled weight decay,
    /// <c>chain(scale_by_adam, add_decayed_weights(weightDecay, mask), scale_by_learning_rate)</c>, so each
    /// step is <c>p ← p - lr * (adam_update + weightDecay * p)</c>. <paramref name="mask"/> as in
    /// <see cref="AddDecayedWeights"/>.
    /// </summary>
    public static GradientTransformation AdamW(double learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0,
        double weightDecay = 1e-4, Func<TreePath, Tensor, bool>? mask = null)
        => Chain(ScaleByAdam(b1, b2, eps, epsRoot), AddDecayedWeights(weightDecay, mask), ScaleByLearningRate(learningRate));

    /// <summary><c>optax.adamw</c> with a learning-rate schedule.</summary>
    public static GradientTransformation AdamW(Schedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0,
        double weightDecay = 1e-4, Func<TreePath, Tensor, bool>? mask = null)
        => Chain(ScaleByAdam(b1, b2, eps, epsRoot), AddDecayedWeights(weightDecay, mask), ScaleByLearningRate(learningRate));

    /// <summary><c>optax.apply_updates</c>: <c>params + updates</c> leaf by leaf, in each parameter's dtype.</summary>
    public static T ApplyUpdates<T>(T parameters, object? updates)
    {
        var (pl, pd) = Tree.Flatten(parameters);
        var (ul, ud) = Tree.Flatten(updates);
        Tree.CheckSame(pd, ud, "ApplyUpdates", "the parameters", "the updates");
        var outs = new Tensor[pl.Length];
        for (int i = 0; i < outs.Length; i++) outs[i] = Lax.ConvertElementType(pl[i] + ul[i], pl[i].DType, pl[i].IsWeak);
        return Tree.Unflatten<T>(pd, outs);
    }
}
