using Stax.Tracing;
using static Stax.Rules.ControlFlowPrograms;
using static Stax.Tracing.JaxprSplit;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static partial void RegisterControlFlow()
    {
        RegisterCond();
        RegisterWhile();
        RegisterScan();
        RegisterRemat();
        RegisterCustomVjp();
    }

    static bool[] Or(IEnumerable<bool[]> masks)
    {
        bool[]? acc = null;
        foreach (var m in masks)
        {
            acc ??= new bool[m.Length];
            for (int i = 0; i < m.Length; i++) acc[i] |= m[i];
        }
        return acc ?? Array.Empty<bool>();
    }

    // ============================== cond ==============================

    static void RegisterCond()
    {
        var cond = Prims.Cond;

        cond.Jvp = CondJvp;
        cond.Batch = CondBatch;

        cond.PartialEval = CondPartialEval;
        cond.Transpose = CondTranspose;
    }

    static (Tensor[] Primals, Tensor?[] Tangents) CondJvp(Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var p = (CondParams)ps;
        var nz = ts[1..].Select((t, i) => t is not null && xs[i + 1].DType.IsFloat()).ToArray();
        int nOut = p.Branches[0].OutVars.Length;
        var (branches, outNz) = Derived(p, "jvp:" + Mask(nz), () =>
        {
            var union = Or(p.Branches.Select(b => JvpJaxpr(b, nz, new bool[nOut], "cond branch").OutNz));
            var bs = p.Branches.Select(b => JvpJaxpr(b, nz, union, "cond branch").Jaxpr).ToArray();
            return (bs, union);
        });
        return PrimalsAndTangents(BindCond(xs[0], branches, xs[1..].Concat(ts[1..].Where((_, i) => nz[i]).Select(t => t!))), outNz);
    }

    static (Tensor[] Outputs, int?[] Dims) CondBatch(BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var p = (CondParams)ps;
        int size = ctx.AxisSize;
        int nOut = p.Branches[0].OutVars.Length;
        if (ds[0] is not null)
        {
            // A mapped index: every branch runs on the whole batch and a select picks per element.
            var tr = ctx.Trace;
            var ops = xs[1..].Select((x, i) => tr.New(x, ds[i + 1])).ToArray();
            var index = tr.New(xs[0], ds[0]);
            index = Lax.Max(Lax.Min(index, Tensor.Scalar(p.Branches.Length - 1, DType.Int32)), Tensor.Scalar(0, DType.Int32));
            var outs = p.Branches.Select(b => JaxprEval.Eval(b, Array.Empty<Tensor>(), ops)).ToArray();
            var result = new Tensor[nOut];
            for (int o = 0; o < nOut; o++)
            {
                var r = outs[^1][o];
                for (int b = p.Branches.Length - 2; b >= 0; b--)
                {
                    var pick = Lax.Eq(index, Tensor.Scalar(b, DType.Int32));
                    r = Lax.Select(Lax.BroadcastInDim(pick, r.Shape), outs[b][o], r);
                }
                result[o] = r;
            }
            var unpacked = result.Select(tr.Unpack).ToArray();
            return (unpacked.Select(u => u.Value).ToArray(), unpacked.Select(u => u.Dim).ToArray());
        }
        var batched = ds[1..].Select(d => d is not null).ToArray();
        var (branches, outB) = Derived(p, $"vmap:{size}:{ctx.AxisName}:" + Mask(batched), () =>
        {
            var union = Or(p.Branches.Select(b => BatchJaxpr(b, size, ctx.AxisName, batched, new bool[nOut], "cond branch").OutBatched));
            var bs = p.Branches.Select(b => BatchJaxpr(b, size, ctx.AxisName, batched, union, "cond branch").Jaxpr).ToArray();
            return (bs, union);
        });
        var args = xs[1..].Select((x, i) => ds[i + 1] is null ? x : BatchRules.MoveTo(x, ds[i + 1], 0, size));
        var res = BindCond(xs[0], branches, args);
        return (res, outB.Select(b => b ? (int?)0 : null).ToArray());
    }

    static Tensor[] CondPartialEval(PartialEvalTrace trace, Tensor[] args, Params ps)
    {
        var p = (CondParams)ps;
        var outAvals = Prims.Cond.AbstractEval(args.Select(a => a.Aval).ToArray(), ps);
        if (trace.KnownValue(args[0]) is not { } index)
            return trace.Record(Prims.Cond, args, ps, outAvals);
        var unknown = args[1..].Select(a => trace.KnownValue(a) is null).ToArray();
        int nOut = outAvals.Length;
        var split = Derived(p, "pe:" + Mask(unknown), () =>
        {
            var union = Or(p.Branches.Select(b => PartialEvalJaxpr(b, unknown, new bool[nOut], "cond branch").OutUnknown));
            var parts = p.Branches.Select(b => PartialEvalJaxpr(b, unknown, union, "cond branch")).ToArray();
            // Residuals of all branches, each branch filling the others' with zeros.
            var resAvals = parts.SelectMany(r => r.Known.Jaxpr.OutAvals[^r.NumResiduals..]).ToArray();
            int nKnownOut = union.Count(u => !u);
            var knownIn = p.Branches[0].InAvals.Where((_, i) => !unknown[i]).ToArray();
            var known = new ClosedJaxpr[parts.Length];
            var unknownB = new ClosedJaxpr[parts.Length];
            int offset = 0;
            for (int b = 0; b < parts.Length; b++)
            {
                var r = parts[b];
                int start = offset;
                known[b] = StagingTrace.Stage(ka =>
                {
                    var o = JaxprEval.Eval(r.Known, ka);
                    var all = o[..nKnownOut].ToList();
                    for (int i = 0; i < resAvals.Length; i++)
                        all.Add(i >= start && i < start + r.NumResiduals ? o[nKnownOut + i - start] : ZeroTensor(resAvals[i]));
                    return all.ToArray();
                }, knownIn, "cond known branch");
                var unknownIn = resAvals.Concat(p.Branches[0].InAvals.Where((_, i) => unknown[i])).ToArray();
                unknownB[b] = StagingTrace.Stage(ua =>
                {
                    var res = ua[start..(start + r.NumResiduals)];
                    return JaxprEval.Eval(r.Unknown, res.Concat(ua[resAvals.Length..]).ToArray());
                }, unknownIn, "cond unknown branch");
                offset += r.NumResiduals;
            }
            return (Known: known, Unknown: MakeCond(unknownB), OutUnknown: union, NumRes: resAvals.Length);
        });
        var knownArgs = args[1..].Where((_, i) => !unknown[i]).Select(a => trace.KnownValue(a)!).ToArray();
        var knownOuts = BindCond(index, split.Known, knownArgs);
        int nk = split.OutUnknown.Count(u => !u);
        var residuals = knownOuts[nk..].Select(trace.NewKnown);
        var (up, uconsts) = split.Unknown;
        var uargs = new[] { args[0] }.Concat(uconsts.Select(trace.NewKnown)).Concat(residuals).Concat(args[1..].Where((_, i) => unknown[i])).ToArray();
        var unknownOuts = trace.Record(Prims.Cond, uargs, up, up.Branches[0].OutAvals);
        var result = new Tensor[nOut];
        int ki = 0, ui = 0;
        for (int i = 0; i < nOut; i++) result[i] = split.OutUnknown[i] ? unknownOuts[ui++] : trace.NewKnown(knownOuts[ki++]);
        return result;
    }

    static Tensor?[] CondTranspose(Tensor?[] cts, LinearArg[] a, Params ps)
    {
        var p = (CondParams)ps;
        if (a[0].IsLinear) throw new InvalidOperationException("Internal error: cond's index cannot be linear");
        var linear = a[1..].Select(x => x.IsLinear).ToArray();
        var ctNz = cts.Select(c => c is not null).ToArray();
        var branches = Derived(p, "T:" + Mask(linear) + ":" + Mask(ctNz),
            () => p.Branches.Select(b => TransposeJaxpr(b, linear, ctNz, "cond branch")).ToArray());
        var ops = a[1..].Where(x => !x.IsLinear).Select(x => x.Known).Concat(cts.Where(c => c is not null).Select(c => c!));
        var outs = BindCond(a[0].Known, branches, ops);
        var result = new Tensor?[a.Length];
        int j = 0;
        for (int i = 1; i < a.Length; i++) if (a[i].IsLinear) result[i] = outs[j++];
        return result;
    }

    // ============================== while ==============================

    static string WhileReverseModeError =>
        "while: reverse-mode differentiation (Grad, Vjp) does not work for WhileLoop or ForiLoop with dynamic (tensor) bounds: the number of " +
        "iterations is only known at run time, so the loop cannot be run backwards. Use Scan, or ForiLoop with a static (int) trip count, " +
        "which lowers to Scan. Forward mode (Jvp) works.";

    static void RegisterWhile()
    {
        var wh = Prims.While;

        wh.Jvp = WhileJvp;
        wh.Batch = WhileBatch;

        wh.PartialEval = WhilePartialEval;

        wh.Transpose = (cts, a, ps) => throw new NotSupportedException(WhileReverseModeError);
    }

    static (Tensor[] Primals, Tensor?[] Tangents) WhileJvp(Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var p = (WhileParams)ps;
        int nc = p.CondNConsts, nb = p.BodyNConsts, nK = xs.Length - nc - nb;
        var nz = ts.Select((t, i) => t is not null && xs[i].DType.IsFloat()).ToArray();
        var bcNz = nz[nc..(nc + nb)];
        var kNz = nz[(nc + nb)..].ToArray();
        // Fixed point: a carry has a tangent if its initial value or any iteration gives it one.
        while (true)
        {
            var outNz = JvpJaxpr(p.Body, bcNz.Concat(kNz).ToArray(), new bool[nK], "while body").OutNz;
            bool changed = false;
            for (int i = 0; i < nK; i++) if (outNz[i] && !kNz[i]) { kNz[i] = true; changed = true; }
            if (!changed) break;
        }
        var (wp, cconsts, bconsts, nbt) = Derived(p, "jvp:" + Mask(bcNz) + ":" + Mask(kNz), () =>
        {
            var body = JvpJaxpr(p.Body, bcNz.Concat(kNz).ToArray(), kNz, "while body").Jaxpr;
            // body inputs: [consts, carry, const tangents, carry tangents] -> [consts, const tangents, carry, carry tangents]
            var bj = body.Jaxpr;
            int nbT = bcNz.Count(b => b), nkT = kNz.Count(b => b);
            var ins = bj.InVars;
            var order = ins[..nb].Concat(ins[(nb + nK)..(nb + nK + nbT)]).Concat(ins[nb..(nb + nK)]).Concat(ins[(nb + nK + nbT)..]);
            var bodyR = new ClosedJaxpr(WithInputs(bj, order), body.Consts);
            var cj = p.Cond;
            var condT = new ClosedJaxpr(WithInputs(cj, cj.InVars.Concat(kNz.Where(b => b).Select((_, i) => new Var(Strong(xs[nc + nb + KthTrue(kNz, i)].Aval))))), Array.Empty<Tensor>());
            var (w, cc, bc) = MakeWhile(condT, nc, bodyR, nb + nbT);
            return (w, cc, bc, nbT);
        });
        var carryT = kNz.Select((b, i) => b ? ts[nc + nb + i] ?? ZeroTensor(Strong(xs[nc + nb + i].Aval)) : null).Where(t => t is not null).Select(t => t!);
        var args = cconsts.Concat(xs[..nc]).Concat(bconsts).Concat(xs[nc..(nc + nb)])
            .Concat(ts[nc..(nc + nb)].Where((_, i) => bcNz[i]).Select(t => t!))
            .Concat(xs[(nc + nb)..]).Concat(carryT).ToArray();
        return PrimalsAndTangents(Prims.While.Bind(wp, args), kNz);
    }

    static (Tensor[] Outputs, int?[] Dims) WhileBatch(BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var p = (WhileParams)ps;
        int nc = p.CondNConsts, nb = p.BodyNConsts, nK = xs.Length - nc - nb, size = ctx.AxisSize;
        var b = ds.Select(d => d is not null).ToArray();
        var ccB = b[..nc];
        var bcB = b[nc..(nc + nb)];
        var kB = b[(nc + nb)..].ToArray();
        bool predB;
        while (true)
        {
            predB = BatchJaxpr(p.Cond, size, ctx.AxisName, ccB.Concat(kB).ToArray(), new[] { false }, "while cond").OutBatched[0];
            if (predB) { kB = Enumerable.Repeat(true, nK).ToArray(); break; }
            var outB = BatchJaxpr(p.Body, size, ctx.AxisName, bcB.Concat(kB).ToArray(), new bool[nK], "while body").OutBatched;
            bool changed = false;
            for (int i = 0; i < nK; i++) if (outB[i] && !kB[i]) { kB[i] = true; changed = true; }
            if (!changed) break;
        }
        var args = xs.Select((x, i) => b[i] || (i >= nc + nb && kB[i - nc - nb]) ? BatchRules.MoveTo(x, ds[i], 0, size) : x).ToArray();
        var cc = args[..nc];
        var bc = args[nc..(nc + nb)];
        var carry = args[(nc + nb)..];
        var (condJ, bodyJ, pb) = Derived(p, $"vmap:{size}:{ctx.AxisName}:{Mask(b)}:{Mask(kB)}", () =>
        {
            var c = BatchJaxpr(p.Cond, size, ctx.AxisName, ccB.Concat(kB).ToArray(), new[] { false }, "while cond");
            var bd = BatchJaxpr(p.Body, size, ctx.AxisName, bcB.Concat(kB).ToArray(), kB, "while body").Jaxpr;
            if (!c.OutBatched[0]) return (c.Jaxpr, bd, false);
            // A mapped predicate: loop while any element continues; finished elements keep their carry.
            var condAny = StagingTrace.Stage(a =>
            {
                var pred = JaxprEval.Eval(c.Jaxpr, a)[0];
                var count = Lax.ReduceMax(Lax.ConvertElementType(pred, DType.Int32), 0);
                return new[] { Lax.Gt(count, Tensor.Scalar(0, DType.Int32)) };
            }, c.Jaxpr.Jaxpr.InAvals, "while cond (any)");
            var bodySel = StagingTrace.Stage(a =>
            {
                var pred = JaxprEval.Eval(c.Jaxpr, a[..nc].Concat(a[(nc + nb)..]).ToArray())[0];
                var old = a[(nc + nb)..];
                var next = JaxprEval.Eval(bd, a[nc..]);
                return next.Select((v, i) => Lax.Select(Lax.BroadcastInDim(pred, v.Shape, 0), v, old[i])).ToArray();
            }, c.Jaxpr.Jaxpr.InAvals[..nc].Concat(bd.Jaxpr.InAvals).ToArray(), "while body (select)");
            return (condAny, bodySel, true);
        });
        var res = pb ? BindWhile(condJ, cc, bodyJ, cc.Concat(bc), carry) : BindWhile(condJ, cc, bodyJ, bc, carry);
        return (res, kB.Select(k => k ? (int?)0 : null).ToArray());
    }

    static Tensor[] WhilePartialEval(PartialEvalTrace trace, Tensor[] args, Params ps)
    {
        var p = (WhileParams)ps;
        int nc = p.CondNConsts, nb = p.BodyNConsts, nK = args.Length - nc - nb;
        var outAvals = Prims.While.AbstractEval(args.Select(a => a.Aval).ToArray(), ps);
        var unknown = args.Select(a => trace.KnownValue(a) is null).ToArray();
        var ccU = unknown[..nc];
        var bcU = unknown[nc..(nc + nb)];
        var kU = unknown[(nc + nb)..].ToArray();
        JaxprSplit.PeResult bodySplit;
        while (true)
        {
            bodySplit = PartialEvalJaxpr(p.Body, bcU.Concat(kU).ToArray(), new bool[nK], "while body");
            bool changed = false;
            for (int i = 0; i < nK; i++) if (bodySplit.OutUnknown[i] && !kU[i]) { kU[i] = true; changed = true; }
            if (!changed) break;
        }
        var condSplit = PartialEvalJaxpr(p.Cond, ccU.Concat(kU).ToArray(), new[] { false }, "while cond");
        // The unknown part re-runs the whole loop (as JAX does); transposing it raises the error above.
        var all = trace.Record(Prims.While, args, ps, outAvals);
        if (condSplit.OutUnknown[0] || kU.All(u => u)) return all;
        var knownCond = WithOutputs(condSplit.Known, condSplit.Known.Jaxpr.OutVars[..1]);
        int nKnownCarry = kU.Count(u => !u);
        var knownBody = WithOutputs(bodySplit.Known, bodySplit.Known.Jaxpr.OutVars[..nKnownCarry]);
        Tensor[] K(IEnumerable<Tensor> xs) => xs.Select(x => trace.KnownValue(x)!).ToArray();
        var kouts = BindWhile(knownCond, K(args[..nc].Where((_, i) => !ccU[i])), knownBody,
            K(args[nc..(nc + nb)].Where((_, i) => !bcU[i])), K(args[(nc + nb)..].Where((_, i) => !kU[i])));
        var result = new Tensor[nK];
        int j = 0;
        for (int i = 0; i < nK; i++) result[i] = kU[i] ? all[i] : trace.NewKnown(kouts[j++]);
        return result;
    }

    static int KthTrue(bool[] m, int k)
    {
        for (int i = 0; i < m.Length; i++) if (m[i] && k-- == 0) return i;
        throw new InvalidOperationException("Internal error: mask index");
    }
}
