using Stax.Tracing;
using static Stax.Rules.ControlFlowPrograms;
using static Stax.Tracing.JaxprSplit;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    // ============================== remat (checkpoint) ==============================

    static void RegisterRemat()
    {
        var remat = Prims.Remat;

        remat.Jvp = RematJvp;
        remat.Batch = RematBatch;

        // Partial evaluation keeps only the known inputs (and, with SaveDots, matrix products) as
        // residuals: the unknown equation recomputes the rest of the forward pass from them.
        remat.PartialEval = RematPartialEval;

        // The transpose recomputes: the backward pass evaluates the non-linear equations forwards first.
        remat.Transpose = RematTranspose;
    }

    static (Tensor[] Primals, Tensor?[] Tangents) RematJvp(Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var p = (RematParams)ps;
        var nz = ts.Select((t, i) => t is not null && xs[i].DType.IsFloat()).ToArray();
        int nOut = p.Jaxpr.OutVars.Length;
        var (rp, consts, outNz) = Derived(p, "jvp:" + Mask(nz), () =>
        {
            var (c, o) = JvpJaxpr(p.Jaxpr, nz, new bool[nOut], "remat");
            var (j, k) = Convert(c);
            return (new RematParams(j, p.Policy), k, o);
        });
        return PrimalsAndTangents(Prims.Remat.Bind(rp, consts.Concat(xs).Concat(ts.Where((_, i) => nz[i]).Select(t => t!)).ToArray()), outNz);
    }

    static (Tensor[] Outputs, int?[] Dims) RematBatch(BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var p = (RematParams)ps;
        var b = ds.Select(d => d is not null).ToArray();
        int nOut = p.Jaxpr.OutVars.Length;
        var (rp, consts, outB) = Derived(p, $"vmap:{ctx.AxisSize}:{ctx.AxisName}:{Mask(b)}", () =>
        {
            var (c, o) = BatchJaxpr(p.Jaxpr, ctx.AxisSize, ctx.AxisName, b, new bool[nOut], "remat");
            var (j, k) = Convert(c);
            return (new RematParams(j, p.Policy), k, o);
        });
        var args = xs.Select((x, i) => b[i] ? BatchRules.MoveTo(x, ds[i], 0, ctx.AxisSize) : x);
        var res = Prims.Remat.Bind(rp, consts.Concat(args).ToArray());
        return (res, outB.Select(o => o ? (int?)0 : null).ToArray());
    }

    static Tensor[] RematPartialEval(PartialEvalTrace trace, Tensor[] args, Params ps)
    {
        var p = (RematParams)ps;
        var unknown = args.Select(a => trace.KnownValue(a) is null).ToArray();
        var s = Derived(p, "pe:" + Mask(unknown), () => SplitRemat(p, unknown));
        var kvals = args.Where((_, i) => !unknown[i]).Select(a => trace.KnownValue(a)!).ToArray();
        var kouts = Prims.Remat.Bind(s.Known, s.KnownConsts.Concat(kvals).ToArray());
        int nKO = s.OutUnknown.Count(u => !u);
        var uargs = s.UnknownConsts.Select(trace.NewKnown)
            .Concat(kvals.Where((_, i) => s.KnownUsed[i]).Select(trace.NewKnown))
            .Concat(kouts[nKO..].Select(trace.NewKnown))
            .Concat(args.Where((_, i) => unknown[i])).ToArray();
        var uouts = trace.Record(Prims.Remat, uargs, s.Unknown, s.Unknown.Jaxpr.OutAvals);
        var result = new Tensor[s.OutUnknown.Length];
        int ki = 0, ui = 0;
        for (int i = 0; i < result.Length; i++) result[i] = s.OutUnknown[i] ? uouts[ui++] : trace.NewKnown(kouts[ki++]);
        return result;
    }

    static Tensor?[] RematTranspose(Tensor?[] cts, LinearArg[] a, Params ps)
    {
        var p = (RematParams)ps;
        var full = a.Select(x => x.IsLinear ? null : x.Known).ToArray();
        var g = Transposer.BackwardPass(p.Jaxpr, Array.Empty<Tensor>(), full, cts);
        return g.Select((c, i) => a[i].IsLinear ? c : null).ToArray();
    }

    sealed record RematSplit(RematParams Known, Tensor[] KnownConsts, RematParams Unknown, Tensor[] UnknownConsts, bool[] KnownUsed, bool[] OutUnknown);

    static RematSplit SplitRemat(RematParams p, bool[] unknown)
    {
        var j = p.Jaxpr;
        var r = PartialEvalJaxpr(j, unknown, new bool[j.OutVars.Length], "remat");
        var kj = r.Known.Jaxpr;
        int nKO = kj.OutVars.Length - r.NumResiduals;
        var resVars = kj.OutVars[nKO..];
        // Variables the residuals depend on (to save only matrix products that matter).
        var live = new HashSet<Var>(resVars);
        for (int i = kj.Eqns.Length - 1; i >= 0; i--)
            if (kj.Eqns[i].Outputs.Any(live.Contains)) foreach (var v in kj.Eqns[i].Inputs) live.Add(v);
        var saved = p.Policy == RematPolicy.SaveDots
            ? kj.Eqns.Where(e => e.Primitive == Prims.DotGeneral).SelectMany(e => e.Outputs).Where(live.Contains).ToArray()
            : Array.Empty<Var>();
        var savedSet = new HashSet<Var>(saved);
        var knownClosed = new ClosedJaxpr(new Jaxpr(kj.ConstVars, kj.InVars, kj.Eqns, kj.OutVars[..nKO].Concat(saved).ToArray()), r.Known.Consts);
        var (knownJ, knownC) = Convert(knownClosed);
        int nKnownIn = kj.InVars.Length;
        int nUnknownIn = unknown.Count(u => u);
        var unknownAvals = j.InAvals.Where((_, i) => unknown[i]).ToArray();
        // The unknown part: recompute the residuals from the known inputs (and saved products),
        // then run the unknown equations.
        var staged = StagingTrace.Stage(a =>
        {
            var env = new Dictionary<Var, Tensor>();
            for (int i = 0; i < kj.ConstVars.Length; i++) env[kj.ConstVars[i]] = r.Known.Consts[i];
            for (int i = 0; i < nKnownIn; i++) env[kj.InVars[i]] = a[i];
            for (int i = 0; i < saved.Length; i++) env[saved[i]] = a[nKnownIn + i];
            foreach (var e in kj.Eqns)
            {
                if (e.Outputs.All(savedSet.Contains) || !e.Outputs.Any(live.Contains)) continue;
                var outs = e.Primitive.Bind(e.Params, e.Inputs.Select(v => env[v]).ToArray());
                for (int i = 0; i < outs.Length; i++) env[e.Outputs[i]] = outs[i];
            }
            var res = resVars.Select(v => env[v]);
            return JaxprEval.Eval(r.Unknown, res.Concat(a[(nKnownIn + saved.Length)..]).ToArray());
        }, kj.InAvals.Concat(saved.Select(v => v.Aval)).Concat(unknownAvals).ToArray(), "remat recompute");
        // Drop known inputs the recomputation does not read (fewer residuals).
        var sj = staged.Jaxpr;
        var used = new HashSet<Var>(sj.Eqns.SelectMany(e => e.Inputs).Concat(sj.OutVars));
        var knownUsed = sj.InVars[..nKnownIn].Select(used.Contains).ToArray();
        var keptIns = sj.InVars.Where((v, i) => i >= nKnownIn || knownUsed[i]);
        var (uj, uc) = Convert(new ClosedJaxpr(WithInputs(sj, keptIns), staged.Consts));
        return new RematSplit(new RematParams(knownJ, p.Policy), knownC, new RematParams(uj, p.Policy), uc, knownUsed, r.OutUnknown);
    }

    // ============================== custom VJP ==============================

    static void RegisterCustomVjp()
    {
        var call = Prims.CustomVjpCall;
        var lin = Prims.CustomLin;

        call.Jvp = CustomVjpCallJvp;

        lin.Transpose = (cts, a, ps) =>
        {
            var lp = (CustomLinParams)ps;
            int n = lp.NumResiduals;
            var res = a[..n].Select(x => x.IsLinear
                ? throw new InvalidOperationException($"custom_vjp ({lp.Name}): a residual depends on the tangents (residuals must be computed from the primal inputs)")
                : x.Known).ToArray();
            var ct = cts.Select((c, i) => c ?? ZeroTensor(lp.OutAvals[i])).ToArray();
            var g = lp.Bwd(res, ct);
            int nIn = a.Length - n;
            if (g is null || g.Length != nIn)
                throw new ArgumentException($"custom_vjp ({lp.Name}): the backward function must return one cotangent per input ({nIn}), got {g?.Length.ToString() ?? "null"}");
            var result = new Tensor?[a.Length];
            for (int i = 0; i < nIn; i++)
            {
                var want = a[n + i].Aval;
                if (g[i].Shape != want.Shape)
                    throw new ArgumentException($"custom_vjp ({lp.Name}): the backward function's cotangent {i} has shape {g[i].Shape}, the input has shape {want.Shape}");
                if (a[n + i].IsLinear) result[n + i] = g[i].DType == want.DType ? g[i] : Lax.ConvertElementType(g[i], want.DType);
            }
            return result;
        };

        // Vmap: batch the function's program, and run the user's forward and backward functions
        // under Vmap (inputs that were not mapped get their cotangents summed over the batch).
        call.Batch = CustomVjpCallBatch;
    }

    static (Tensor[] Primals, Tensor?[] Tangents) CustomVjpCallJvp(Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var p = (CustomVjpParams)ps;
        int k = p.NumConsts;
        for (int i = 0; i < k; i++)
            if (ts[i] is not null && xs[i].DType.IsFloat())
                throw new InvalidOperationException(
                    $"custom_vjp ({p.Name}): differentiation with respect to a value the function closes over. The custom VJP only " +
                    "says how to differentiate with respect to the explicit arguments; pass that value as an argument instead.");
        var (outs, res) = p.Fwd(xs[k..]);
        var want = p.Jaxpr.OutAvals;
        if (outs is null || res is null || outs.Length != want.Length)
            throw new ArgumentException($"custom_vjp ({p.Name}): the forward function must return the {want.Length} outputs of the function and the residuals, got {outs?.Length.ToString() ?? "null"} outputs");
        for (int i = 0; i < want.Length; i++)
            if (!SubPrograms.SameType(outs[i].Aval, want[i]))
                throw new ArgumentException($"custom_vjp ({p.Name}): the forward function's output {i} has type {outs[i].Aval}, the function returns {want[i]}");
        var tins = ts[k..].Select((t, i) => t ?? ZeroTensor(Strong(xs[k + i].Aval)));
        var lp = new CustomLinParams(p.Name, res.Length, want.Select(Strong).ToArray(), p.Bwd);
        var touts = Prims.CustomLin.Bind(lp, res.Concat(tins).ToArray());
        return (outs, touts.Select(t => (Tensor?)t).ToArray());
    }

    static (Tensor[] Outputs, int?[] Dims) CustomVjpCallBatch(BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var p = (CustomVjpParams)ps;
        int n = ctx.AxisSize, k = p.NumConsts;
        var b = ds.Select(d => d is not null).ToArray();
        int nOut = p.Jaxpr.OutVars.Length;
        var (bj, bconsts) = Derived(p, $"vmap:{n}:{ctx.AxisName}:{Mask(b)}", () =>
            Convert(BatchJaxpr(p.Jaxpr, n, ctx.AxisName, b, Enumerable.Repeat(true, nOut).ToArray(), "custom_vjp").Jaxpr));
        var moved = xs.Select((x, i) => b[i] ? BatchRules.MoveTo(x, ds[i], 0, n) : x).ToArray();
        var inAxes = b[k..].Select(x => x ? (int?)0 : null).ToArray();
        string? axisName = ctx.AxisName;
        CustomVjpForward fwd = ins =>
        {
            int nRes = 0;
            var outs = Transforms.Vmap(a =>
            {
                var (o, r) = p.Fwd(a);
                nRes = r.Length;
                return o.Concat(r).ToArray();
            }, inAxes, null, axisName, n)(ins);
            return (outs[..(outs.Length - nRes)], outs[(outs.Length - nRes)..]);
        };
        CustomVjpBackward bwd = (res, cts) =>
        {
            var g = Transforms.Vmap(a => p.Bwd(a[..res.Length], a[res.Length..]),
                Enumerable.Repeat<int?>(0, res.Length + cts.Length).ToArray(), null, axisName, n)(res.Concat(cts).ToArray());
            return g.Select((x, i) => i < inAxes.Length && inAxes[i] is null ? Lax.ReduceSum(x, 0) : x).ToArray();
        };
        var bp = new CustomVjpParams(p.Name, bj, bconsts.Length + k, fwd, bwd);
        var res2 = Prims.CustomVjpCall.Bind(bp, bconsts.Concat(moved).ToArray());
        return (res2, Enumerable.Repeat<int?>(0, res2.Length).ToArray());
    }

}
