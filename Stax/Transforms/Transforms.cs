using Stax.Tracing;

namespace Stax;

/// <summary>
/// The composable transformations: Jvp, Linearize, Vjp, Grad, ValueAndGrad, Vmap, MakeJaxpr,
/// EvalShape and Jit.
/// Each returns or runs an ordinary function, so they nest in any order
/// (<c>using static Stax.Transforms;</c> then <c>Grad(Grad(f))</c>, <c>Vmap(Grad(f))</c>, ...).
/// </summary>
public static partial class Transforms
{
    static Func<Tensor[], Tensor[]> Flat(Func<Tensor, Tensor> f) => xs => new[] { f(xs[0]) };

    // ---------------- forward mode ----------------

    /// <summary>Evaluates <paramref name="f"/> and its directional derivative along <paramref name="tangents"/>.</summary>
    public static (Tensor[] Primals, Tensor[] Tangents) Jvp(Func<Tensor[], Tensor[]> f, Tensor[] primals, Tensor[] tangents)
    {
        if (primals.Length != tangents.Length)
            throw new ArgumentException($"Jvp: {primals.Length} primals but {tangents.Length} tangents");
        for (int i = 0; i < primals.Length; i++)
            if (primals[i].Shape != tangents[i].Shape || primals[i].DType != tangents[i].DType)
                throw new ArgumentException($"Jvp: tangent {i} has type {tangents[i].Aval} but its primal has {primals[i].Aval}");
        using var scope = TraceState.Begin(l => new JvpTrace(l));
        var trace = scope.Trace;
        var ins = primals.Select((p, i) => trace.New(p, p.DType.IsFloat() ? tangents[i] : null)).ToArray();
        var outs = f(ins);
        var po = new Tensor[outs.Length];
        var to = new Tensor[outs.Length];
        for (int i = 0; i < outs.Length; i++)
        {
            var (p, t) = trace.Unpack(outs[i]);
            po[i] = p;
            to[i] = t ?? Np.ZerosLike(p);
        }
        return (po, to);
    }

    /// <summary>Single-argument <see cref="Jvp(Func{Tensor[], Tensor[]}, Tensor[], Tensor[])"/>.</summary>
    public static (Tensor Primal, Tensor Tangent) Jvp(Func<Tensor, Tensor> f, Tensor primal, Tensor tangent)
    {
        var (p, t) = Jvp(Flat(f), new[] { primal }, new[] { tangent });
        return (p[0], t[0]);
    }

    // ---------------- reverse mode ----------------

    /// <summary>
    /// Evaluates <paramref name="f"/> and returns its outputs and the linear program of its JVP
    /// (partial evaluation: primal work is done now, tangent work is staged).
    /// </summary>
    public static (Tensor[] Outputs, ClosedJaxpr Linear) LinearizeJaxpr(Func<Tensor[], Tensor[]> f, Tensor[] primals)
    {
        using var pe = TraceState.Begin(l => new PartialEvalTrace(l));
        var peTrace = pe.Trace;
        var knownPrimals = primals.Select(peTrace.NewKnown).ToArray();
        var tangentIns = primals.Select(p => peTrace.NewUnknown(TangentAval(p.Aval))).ToArray();
        Tensor[] primalOuts, tangentOuts;
        using (var jvp = TraceState.Begin(l => new JvpTrace(l)))
        {
            var jt = jvp.Trace;
            var ins = knownPrimals.Select((p, i) => jt.New(p, primals[i].DType.IsFloat() ? tangentIns[i] : null)).ToArray();
            var outs = f(ins);
            primalOuts = new Tensor[outs.Length];
            tangentOuts = new Tensor[outs.Length];
            for (int i = 0; i < outs.Length; i++)
            {
                var (p, t) = jt.Unpack(outs[i]);
                primalOuts[i] = p;
                tangentOuts[i] = t ?? Np.ZerosLike(p);
            }
        }
        var values = primalOuts.Select(p => peTrace.KnownValue(p)
            ?? throw new InvalidOperationException("Internal error: a primal output depends on tangents")).ToArray();
        var linear = peTrace.ToJaxpr(tangentIns, tangentOuts);
        return (values, linear);
    }

    static AbstractValue TangentAval(AbstractValue a) => a with { Weak = false };

    /// <summary>Outputs of <paramref name="f"/> and its linearization: a function from input tangents to output tangents.</summary>
    public static (Tensor[] Outputs, Func<Tensor[], Tensor[]> Linear) Linearize(Func<Tensor[], Tensor[]> f, Tensor[] primals)
    {
        var (outs, lin) = LinearizeJaxpr(f, primals);
        return (outs, ts => JaxprEval.Eval(lin, ts));
    }

    /// <summary>Outputs of <paramref name="f"/> and its vector-Jacobian product: output cotangents → input cotangents.</summary>
    public static (Tensor[] Outputs, Func<Tensor[], Tensor[]> Vjp) Vjp(Func<Tensor[], Tensor[]> f, Tensor[] primals)
    {
        var (outs, lin) = LinearizeJaxpr(f, primals);
        Tensor[] Pullback(Tensor[] cts)
        {
            if (cts.Length != outs.Length) throw new ArgumentException($"Vjp: expected {outs.Length} cotangents, got {cts.Length}");
            for (int i = 0; i < cts.Length; i++)
                if (cts[i].Shape != outs[i].Shape)
                    throw new ArgumentException($"Vjp: cotangent {i} has shape {cts[i].Shape} but the output has shape {outs[i].Shape}");
            var r = Transposer.BackwardPass(lin.Jaxpr, lin.Consts, new Tensor?[primals.Length], cts.Select(c => (Tensor?)c).ToArray());
            return r.Select((c, i) => c ?? Np.ZerosLike(primals[i])).ToArray();
        }
        return (outs, Pullback);
    }

    /// <summary>The gradient of a scalar function, as a function.</summary>
    public static Func<Tensor, Tensor> Grad(Func<Tensor, Tensor> f) => x => ValueAndGrad(f)(x).Grad;

    /// <summary>Value and gradient of a scalar function.</summary>
    public static Func<Tensor, (Tensor Value, Tensor Grad)> ValueAndGrad(Func<Tensor, Tensor> f) => x =>
    {
        var (v, g) = ValueAndGrad(xs => f(xs[0]), 0)(new[] { x });
        return (v, g[0]);
    };

    /// <summary>Gradients of a scalar function with respect to the arguments listed in <paramref name="argnums"/> (default: the first).</summary>
    public static Func<Tensor[], Tensor[]> Grad(Func<Tensor[], Tensor> f, params int[] argnums)
        => xs => ValueAndGrad(f, argnums)(xs).Grads;

    /// <summary>Value and gradients with respect to <paramref name="argnums"/> (default: the first argument).</summary>
    public static Func<Tensor[], (Tensor Value, Tensor[] Grads)> ValueAndGrad(Func<Tensor[], Tensor> f, params int[] argnums) => xs =>
    {
        var nums = argnums.Length == 0 ? new[] { 0 } : argnums;
        foreach (var n in nums)
        {
            if (n < 0 || n >= xs.Length) throw new ArgumentException($"Grad: argnums {n} is out of range for {xs.Length} arguments");
            if (!xs[n].DType.IsFloat())
                throw new ArgumentException($"Grad: argument {n} has dtype {xs[n].DType.Name()}; gradients need floating-point inputs");
        }
        Tensor[] G(Tensor[] diff)
        {
            var full = (Tensor[])xs.Clone();
            for (int i = 0; i < nums.Length; i++) full[nums[i]] = diff[i];
            var y = f(full);
            if (y.Rank != 0 || !y.DType.IsFloat())
                throw new ArgumentException($"Grad: the function must return a floating-point scalar, got {y.Aval}");
            return new[] { y };
        }
        var (outs, pullback) = Vjp(G, nums.Select(n => xs[n]).ToArray());
        var grads = pullback(new[] { Np.OnesLike(outs[0]).WithWeak(false) });
        return (outs[0], grads);
    };

    // ---------------- staging ----------------

    /// <summary>The program of <paramref name="f"/> traced on arguments of the given types.</summary>
    public static ClosedJaxpr MakeJaxpr(Func<Tensor[], Tensor[]> f, params AbstractValue[] inputs)
        => StagingTrace.Stage(f, inputs, "MakeJaxpr");

    /// <summary>The program of <paramref name="f"/> traced on arguments shaped like <paramref name="examples"/>.</summary>
    public static ClosedJaxpr MakeJaxpr(Func<Tensor[], Tensor[]> f, params Tensor[] examples)
        => MakeJaxpr(f, examples.Select(e => e.Aval).ToArray());

    /// <summary>The program of a one-argument function.</summary>
    public static ClosedJaxpr MakeJaxpr(Func<Tensor, Tensor> f, Tensor example) => MakeJaxpr(Flat(f), example);

    /// <summary>Output types of <paramref name="f"/> without running any kernel.</summary>
    public static AbstractValue[] EvalShape(Func<Tensor[], Tensor[]> f, params AbstractValue[] inputs)
        => StagingTrace.Stage(f, inputs, "EvalShape").Jaxpr.OutAvals;

    /// <summary>Output type of a one-argument function without running any kernel.</summary>
    public static AbstractValue EvalShape(Func<Tensor, Tensor> f, AbstractValue input) => EvalShape(Flat(f), input)[0];

    // ---------------- vectorisation ----------------

    /// <summary>Vectorises a one-argument function over axis <paramref name="inAxis"/> of its input.</summary>
    public static Func<Tensor, Tensor> Vmap(Func<Tensor, Tensor> f, int? inAxis = 0, int? outAxis = 0)
        => x => Vmap(Flat(f), new[] { inAxis }, new[] { outAxis })(new[] { x })[0];

    /// <summary>
    /// Vectorises <paramref name="f"/>: argument i is mapped over axis <paramref name="inAxes"/>[i]
    /// (null = not mapped), output j gets the mapped axis at <paramref name="outAxes"/>[j]
    /// (null = not mapped: it must not depend on the mapped axis). <paramref name="axisName"/> names
    /// the axis for collectives (Psum, ...).
    /// </summary>
    public static Func<Tensor[], Tensor[]> Vmap(Func<Tensor[], Tensor[]> f, int?[] inAxes, int?[]? outAxes = null,
        string? axisName = null, int? axisSize = null) => xs =>
    {
        if (inAxes.Length != xs.Length)
            throw new ArgumentException($"Vmap: in_axes has {inAxes.Length} entries but the function got {xs.Length} arguments");
        int? size = axisSize;
        var axes = new int?[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            if (inAxes[i] is not int ax) continue;
            int a = xs[i].Shape.Axis(ax, $"Vmap (argument {i}, in_axes {ax})");
            axes[i] = a;
            int n = xs[i].Shape[a];
            if (size is int s && s != n)
                throw new ArgumentException($"Vmap: inconsistent sizes for the mapped axis: argument {i} has size {n} at axis {a} (shape {xs[i].Shape}), expected {s} from " +
                    string.Join(", ", xs.Select((x, k) => inAxes[k] is int q ? $"argument {k} shape {x.Shape} axis {q}" : null).Where(t => t != null)));
            size = n;
        }
        if (size is not int axisLen)
            throw new ArgumentException("Vmap: no argument is mapped; give axisSize or map at least one argument");
        using var scope = TraceState.Begin(l => new BatchTrace(l, axisLen, axisName));
        var trace = scope.Trace;
        var ins = xs.Select((x, i) => trace.New(x, axes[i])).ToArray();
        var outs = f(ins);
        var outAx = outAxes ?? Enumerable.Repeat<int?>(0, outs.Length).ToArray();
        if (outAx.Length != outs.Length)
            throw new ArgumentException($"Vmap: out_axes has {outAx.Length} entries but the function returned {outs.Length} outputs");
        var result = new Tensor[outs.Length];
        for (int i = 0; i < outs.Length; i++)
        {
            var (v, d) = trace.Unpack(outs[i]);
            if (outAx[i] is not int oa)
            {
                if (d is not null)
                    throw new ArgumentException($"Vmap: output {i} has out_axes null but depends on the mapped axis");
                result[i] = v;
                continue;
            }
            result[i] = BatchRules.MoveTo(v, d, oa < 0 ? oa + v.Rank + (d is null ? 1 : 0) : oa, axisLen);
        }
        return result;
    };

    // ---------------- gradient control ----------------

    /// <summary>The identity whose derivative is zero.</summary>
    public static Tensor StopGradient(Tensor x) => x.DType.IsFloat() ? Prims.StopGradient.Bind1(Params.None, x) : x;
}
