using Stax.Tracing;
using static Stax.Rules.ControlFlowPrograms;
using static Stax.Tracing.JaxprSplit;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static T[] Pick<T>(IEnumerable<T> xs, bool[] mask, bool want) => xs.Where((_, i) => mask[i] == want).ToArray();

    static void RegisterScan()
    {
        var scan = Prims.Scan;

        // ---------------- JVP ----------------
        scan.Jvp = ScanJvp;

        // ---------------- vmap ----------------
        scan.Batch = ScanBatch;

        // ---------------- partial evaluation (JAX's _scan_partial_eval) ----------------
        scan.PartialEval = ScanPartialEval;

        // ---------------- transpose: a scan in the other direction ----------------
        scan.Transpose = ScanTranspose;
    }

    static (Tensor[] Primals, Tensor?[] Tangents) ScanJvp(Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var p = (ScanParams)ps;
        int nC = p.NumConsts, nK = p.NumCarry, nX = p.NumXs, nY = p.NumYs;
        var nz = ts.Select((t, i) => t is not null && xs[i].DType.IsFloat()).ToArray();
        var cNz = nz[..nC];
        var kNz = nz[nC..(nC + nK)].ToArray();
        var xNz = nz[(nC + nK)..];
        while (true)
        {
            var outNz = JvpJaxpr(p.Body, cNz.Concat(kNz).Concat(xNz).ToArray(), new bool[nK + nY], "scan body").OutNz;
            bool changed = false;
            for (int i = 0; i < nK; i++) if (outNz[i] && !kNz[i]) { kNz[i] = true; changed = true; }
            if (!changed) break;
        }
        var (sp, consts, yNz) = Derived(p, "jvp:" + Mask(cNz) + ":" + Mask(kNz) + ":" + Mask(xNz), () =>
        {
            var inst = kNz.Concat(new bool[nY]).ToArray();
            var (body, outNz) = JvpJaxpr(p.Body, cNz.Concat(kNz).Concat(xNz).ToArray(), inst, "scan body");
            var bj = body.Jaxpr;
            int nCt = cNz.Count(b => b), nKt = kNz.Count(b => b), nXt = xNz.Count(b => b);
            var ins = bj.InVars;
            int t0 = nC + nK + nX;
            var order = ins[..nC].Concat(ins[t0..(t0 + nCt)])
                .Concat(ins[nC..(nC + nK)]).Concat(ins[(t0 + nCt)..(t0 + nCt + nKt)])
                .Concat(ins[(nC + nK)..t0]).Concat(ins[(t0 + nCt + nKt)..]);
            var yNzMask = outNz[nK..];
            int nYt = yNzMask.Count(b => b);
            var outs = bj.OutVars;
            int o0 = nK + nY;
            var outOrder = outs[..nK].Concat(outs[o0..(o0 + nKt)]).Concat(outs[nK..o0]).Concat(outs[(o0 + nKt)..]);
            var reordered = new ClosedJaxpr(new Jaxpr(bj.ConstVars, order.ToArray(), bj.Eqns, outOrder.ToArray()), body.Consts);
            var (s, c) = MakeScan(reordered, nC + nCt, nK + nKt, p.Length, p.Reverse, p.Unroll);
            return (s, c, yNzMask);
        });
        var carryT = kNz.Select((b, i) => b ? ts[nC + i] ?? ZeroTensor(Strong(xs[nC + i].Aval)) : null).Where(t => t is not null).Select(t => t!);
        var args = consts.Concat(xs[..nC]).Concat(Pick(ts[..nC], cNz, true)!)
            .Concat(xs[nC..(nC + nK)]).Concat(carryT)
            .Concat(xs[(nC + nK)..]).Concat(Pick(ts[(nC + nK)..], xNz, true)!).Select(t => t!).ToArray();
        var res = Prims.Scan.Bind(sp, args);
        int nKt2 = kNz.Count(b => b);
        var primals = res[..nK].Concat(res[(nK + nKt2)..(nK + nKt2 + nY)]).ToArray();
        var tout = new Tensor?[nK + nY];
        int q = nK;
        for (int i = 0; i < nK; i++) if (kNz[i]) tout[i] = res[q++];
        q = nK + nKt2 + nY;
        for (int i = 0; i < nY; i++) if (yNz[i]) tout[nK + i] = res[q++];
        return (primals, tout);
    }

    static (Tensor[] Outputs, int?[] Dims) ScanBatch(BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var p = (ScanParams)ps;
        int nC = p.NumConsts, nK = p.NumCarry, nY = p.NumYs, size = ctx.AxisSize;
        var b = ds.Select(d => d is not null).ToArray();
        var cB = b[..nC];
        var kB = b[nC..(nC + nK)].ToArray();
        var xB = b[(nC + nK)..];
        while (true)
        {
            var outB = BatchJaxpr(p.Body, size, ctx.AxisName, cB.Concat(kB).Concat(xB).ToArray(), new bool[nK + nY], "scan body").OutBatched;
            bool changed = false;
            for (int i = 0; i < nK; i++) if (outB[i] && !kB[i]) { kB[i] = true; changed = true; }
            if (!changed) break;
        }
        var (sp, consts, yB) = Derived(p, $"vmap:{size}:{ctx.AxisName}:{Mask(b)}:{Mask(kB)}", () =>
        {
            var (body, outB) = BatchJaxpr(p.Body, size, ctx.AxisName, cB.Concat(kB).Concat(xB).ToArray(), kB.Concat(new bool[nY]).ToArray(), "scan body");
            var (s, c) = MakeScan(body, nC, nK, p.Length, p.Reverse, p.Unroll);
            return (s, c, outB[nK..]);
        });
        // Constants and carries are mapped at 0; the xs at 1 (axis 0 is the scanned one).
        var args = new Tensor[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            if (i < nC) args[i] = b[i] ? BatchRules.MoveTo(xs[i], ds[i], 0, size) : xs[i];
            else if (i < nC + nK) args[i] = kB[i - nC] ? BatchRules.MoveTo(xs[i], ds[i], 0, size) : xs[i];
            else args[i] = b[i] ? BatchRules.MoveTo(xs[i], ds[i], 1, size) : xs[i];
        }
        var res = Prims.Scan.Bind(sp, consts.Concat(args).ToArray());
        var dims = kB.Select(k => k ? (int?)0 : null).Concat(yB.Select(y => y ? (int?)1 : null)).ToArray();
        return (res, dims);
    }

    static Tensor[] ScanPartialEval(PartialEvalTrace trace, Tensor[] args, Params ps)
    {
        var p = (ScanParams)ps;
        int nC = p.NumConsts, nK = p.NumCarry, nX = p.NumXs, nY = p.NumYs;
        var unknown = args.Select(a => trace.KnownValue(a) is null).ToArray();
        var s = Derived(p, "pe:" + Mask(unknown), () => SplitScan(p, unknown));
        var u = s.Unknown;
        var kvals = args.Where((_, i) => !u[i]).Select(a => trace.KnownValue(a)!).ToArray();
        var kouts = Prims.Scan.Bind(s.KnownParams, s.KnownConsts.Concat(kvals).ToArray());
        int nKK = u[nC..(nC + nK)].Count(x => !x);
        int nKY = s.YUnknown.Count(x => !x);
        var stacked = kouts[(nKK + nKY)..].Select(trace.NewKnown);
        var hoisted = s.Hoisted.Select(ci => trace.NewKnown(kvals[ci]));
        var uargs = s.UnknownConsts.Select(trace.NewKnown).Concat(hoisted)
            .Concat(args[..nC].Where((_, i) => u[i]))
            .Concat(args[nC..(nC + nK)].Where((_, i) => u[nC + i]))
            .Concat(stacked)
            .Concat(args[(nC + nK)..].Where((_, i) => u[nC + nK + i])).ToArray();
        var uAvals = Prims.Scan.AbstractEval(uargs.Select(a => a.Aval).ToArray(), s.UnknownParams);
        var uouts = trace.Record(Prims.Scan, uargs, s.UnknownParams, uAvals);
        var result = new Tensor[nK + nY];
        int ki = 0, ui = 0;
        for (int i = 0; i < nK; i++) result[i] = u[nC + i] ? uouts[ui++] : trace.NewKnown(kouts[ki++]);
        for (int i = 0; i < nY; i++) result[nK + i] = s.YUnknown[i] ? uouts[ui++] : trace.NewKnown(kouts[ki++]);
        return result;
    }

    static Tensor?[] ScanTranspose(Tensor?[] cts, LinearArg[] a, Params ps)
    {
        var p = (ScanParams)ps;
        int nC = p.NumConsts, nK = p.NumCarry, nX = p.NumXs, nY = p.NumYs;
        if (cts.All(c => c is null)) return new Tensor?[a.Length];
        var cLin = a[..nC].Select(x => x.IsLinear).ToArray();
        var xLin = a[(nC + nK)..].Select(x => x.IsLinear).ToArray();
        var body = p.Body;
        int nRc = cLin.Count(l => !l), nLc = nC - nRc, nRx = xLin.Count(l => !l), nLx = nX - nRx;
        var (sp, consts) = Derived(p, "T:" + Mask(cLin) + ":" + Mask(xLin), () =>
        {
            var inAvals = body.InAvals;
            var resC = Pick(inAvals[..nC], cLin, false);
            var linC = Pick(inAvals[..nC], cLin, true).Select(Strong);
            var carry = inAvals[nC..(nC + nK)].Select(Strong);
            var ys = body.OutAvals[nK..].Select(Strong);
            var resX = Pick(inAvals[(nC + nK)..], xLin, false);
            var tin = resC.Concat(linC).Concat(carry).Concat(ys).Concat(resX).ToArray();
            var closed = StagingTrace.Stage(t =>
            {
                var rc = t[..nRc];
                var acc = t[nRc..(nRc + nLc)];
                var ctCarry = t[(nRc + nLc)..(nRc + nLc + nK)];
                var ctY = t[(nRc + nLc + nK)..(nRc + nLc + nK + nY)];
                var rx = t[(nRc + nLc + nK + nY)..];
                var full = new Tensor?[nC + nK + nX];
                int r = 0;
                for (int i = 0; i < nC; i++) if (!cLin[i]) full[i] = rc[r++];
                r = 0;
                for (int i = 0; i < nX; i++) if (!xLin[i]) full[nC + nK + i] = rx[r++];
                var g = Transposer.BackwardPass(body, Array.Empty<Tensor>(), full, ctCarry.Concat(ctY).Select(c => (Tensor?)c).ToArray());
                var outs = new List<Tensor>();
                int l = 0;
                for (int i = 0; i < nC; i++) if (cLin[i]) { var ac = acc[l++]; outs.Add(g[i] is { } gi ? Lax.Add(ac, gi) : ac); }
                for (int i = 0; i < nK; i++) outs.Add(g[nC + i] ?? ZeroTensor(Strong(inAvals[nC + i])));
                for (int i = 0; i < nX; i++) if (xLin[i]) outs.Add(g[nC + nK + i] ?? ZeroTensor(Strong(inAvals[nC + nK + i])));
                return outs.ToArray();
            }, tin, "scan transpose");
            return MakeScan(closed, nRc, nLc + nK, p.Length, !p.Reverse, p.Unroll);
        });
        var zerosAcc = a[..nC].Where(x => x.IsLinear).Select(x => ZeroTensor(Strong(x.Aval)));
        var ctCarry = Enumerable.Range(0, nK).Select(i => cts[i] ?? ZeroTensor(Strong(a[nC + i].Aval)));
        var outAvals = Prims.Scan.AbstractEval(a.Select(x => x.Aval).ToArray(), ps);
        var ctYs = Enumerable.Range(0, nY).Select(i => cts[nK + i] ?? ZeroTensor(Strong(outAvals[nK + i])));
        var targs = consts.Concat(a[..nC].Where(x => !x.IsLinear).Select(x => x.Known)).Concat(zerosAcc).Concat(ctCarry)
            .Concat(ctYs).Concat(a[(nC + nK)..].Where(x => !x.IsLinear).Select(x => x.Known)).ToArray();
        var res = Prims.Scan.Bind(sp, targs);
        var result = new Tensor?[a.Length];
        int j = 0;
        for (int i = 0; i < nC; i++) if (cLin[i]) result[i] = res[j++];
        for (int i = 0; i < nK; i++) { var c = res[j++]; if (a[nC + i].IsLinear) result[nC + i] = c; }
        for (int i = 0; i < nX; i++) if (xLin[i]) result[nC + nK + i] = res[j++];
        return result;
    }

    sealed record ScanSplit(bool[] Unknown, bool[] YUnknown, ScanParams KnownParams, Tensor[] KnownConsts,
        ScanParams UnknownParams, Tensor[] UnknownConsts, int[] Hoisted);

    static ScanSplit SplitScan(ScanParams p, bool[] unknownIn)
    {
        int nC = p.NumConsts, nK = p.NumCarry, nX = p.NumXs, nY = p.NumYs;
        var u = (bool[])unknownIn.Clone();
        // Fixed point over the carries: a carry is unknown if its initial value or any iteration makes it so.
        while (true)
        {
            var outU = PartialEvalJaxpr(p.Body, u, new bool[nK + nY], "scan body").OutUnknown;
            bool changed = false;
            for (int i = 0; i < nK; i++) if (outU[i] && !u[nC + i]) { u[nC + i] = true; changed = true; }
            if (!changed) break;
        }
        var inst = Enumerable.Range(0, nK + nY).Select(i => i < nK && u[nC + i]).ToArray();
        var r = PartialEvalJaxpr(p.Body, u, inst, "scan body");
        var yU = r.OutUnknown[nK..];
        int nKC = u[..nC].Count(x => !x);
        var kj = r.Known.Jaxpr;
        int nKnownOut = kj.OutVars.Length - r.NumResiduals;
        // Residuals that are known constants of the body are loop-invariant: pass them as constants
        // of the unknown scan instead of stacking one copy per iteration.
        var hoisted = new List<int>();
        var hoistedPos = new List<int>();
        var stackedVars = new List<Var>();
        var stackedPos = new List<int>();
        for (int i = 0; i < r.NumResiduals; i++)
        {
            var v = kj.OutVars[nKnownOut + i];
            int ci = Array.IndexOf(kj.InVars, v);
            if (ci >= 0 && ci < nKC) { hoisted.Add(ci); hoistedPos.Add(i); }
            else { stackedVars.Add(v); stackedPos.Add(i); }
        }
        var knownBody = new ClosedJaxpr(new Jaxpr(kj.ConstVars, kj.InVars, kj.Eqns, kj.OutVars[..nKnownOut].Concat(stackedVars).ToArray()), r.Known.Consts);
        var (kp, kc) = MakeScan(knownBody, nKC, u[nC..(nC + nK)].Count(x => !x), p.Length, p.Reverse, p.Unroll);
        // Unknown body inputs: [residuals, unknown consts, unknown carry, unknown xs] ->
        // [hoisted residuals, unknown consts, unknown carry, stacked residuals, unknown xs].
        var uj = r.Unknown.Jaxpr;
        var res = uj.InVars[..r.NumResiduals];
        var rest = uj.InVars[r.NumResiduals..];
        int nUC = u[..nC].Count(x => x), nUK = u[nC..(nC + nK)].Count(x => x);
        var order = hoistedPos.Select(i => res[i]).Concat(rest[..nUC]).Concat(rest[nUC..(nUC + nUK)])
            .Concat(stackedPos.Select(i => res[i])).Concat(rest[(nUC + nUK)..]);
        var unknownBody = new ClosedJaxpr(WithInputs(uj, order), r.Unknown.Consts);
        var (up, uc) = MakeScan(unknownBody, hoisted.Count + nUC, nUK, p.Length, p.Reverse, p.Unroll);
        return new ScanSplit(u, yU, kp, kc, up, uc, hoisted.ToArray());
    }
}
