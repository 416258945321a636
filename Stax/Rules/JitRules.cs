using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    /// <summary>A staged program ready to bind as jit: constants are leading inputs.</summary>
    sealed record Program(JitParams Params, Tensor[] Consts)
    {
        public Tensor[] Bind(IEnumerable<Tensor> args) => Prims.Jit.Bind(Params, Consts.Concat(args).ToArray());

        public static Program From(string name, ClosedJaxpr c)
        {
            var (converted, consts) = c.ConstantsAsInputs();
            return new Program(new JitParams(name, converted), consts);
        }
    }

    static Tensor ZerosOf(AbstractValue a) => Lax.BroadcastInDim(Tensor.Scalar(0, a.DType), a.Shape);

    static partial void RegisterControl()
    {
        var jit = Prims.Jit;

        jit.Jvp = JitJvp;
        jit.Batch = JitBatch;

        jit.PartialEval = JitPartialEval;
        jit.Transpose = JitTranspose;
    }

    static (Tensor[] Primals, Tensor?[] Tangents) JitJvp(Tensor[] xs, Tensor?[] ts, Params ps)
    {
        var p = (JitParams)ps;
        var nz = ts.Select(t => t is not null).ToArray();
        string key = "jvp:" + string.Concat(nz.Select(b => b ? '1' : '0'));
        var (jvpJaxpr, outNz) = DerivedPrograms.Get(p.Jaxpr, key, () =>
        {
            var (closed, outMask) = ControlFlowPrograms.JvpJaxpr(p.Jaxpr, nz, new bool[p.Jaxpr.OutVars.Length], $"Jit({p.Name})");
            return (Program.From(p.Name, closed), outMask);
        });
        var args = xs.Concat(ts.Where(t => t is not null).Select(t => t!)).ToArray();
        return ControlFlowPrograms.PrimalsAndTangents(jvpJaxpr.Bind(args), outNz);
    }

    static (Tensor[] Outputs, int?[] Dims) JitBatch(BatchContext ctx, Tensor[] xs, int?[] ds, Params ps)
    {
        var p = (JitParams)ps;
        string key = $"vmap:{ctx.AxisSize}:{ctx.AxisName}:" + string.Join(",", ds.Select(d => d?.ToString() ?? "-"));
        var (batched, outDims) = DerivedPrograms.Get(p.Jaxpr, key, () =>
        {
            int?[] od = Array.Empty<int?>();
            var closed = StagingTrace.Stage(args =>
            {
                using var scope = TraceState.Begin(l => new BatchTrace(l, ctx.AxisSize, ctx.AxisName));
                var tr = scope.Trace;
                var ins = args.Select((a, i) => tr.New(a, ds[i])).ToArray();
                var outs = JaxprEval.Eval(p.Jaxpr, Array.Empty<Tensor>(), ins).Select(tr.Unpack).ToArray();
                od = outs.Select(o => o.Dim is null ? (int?)null : 0).ToArray();
                return outs.Select(o => o.Dim is null ? o.Value : BatchRules.MoveTo(o.Value, o.Dim, 0, ctx.AxisSize)).ToArray();
            }, xs.Select(x => x.Aval).ToArray(), $"Jit({p.Name}) vmap");
            return (Program.From(p.Name, closed), od);
        });
        return (batched.Bind(xs), outDims);
    }

    static Tensor[] JitPartialEval(PartialEvalTrace trace, Tensor[] args, Params ps)
    {
        var p = (JitParams)ps;
        var unknownIn = args.Select(a => trace.KnownValue(a) is null).ToArray();
        var split = DerivedPrograms.Get(p.Jaxpr, "pe:" + string.Concat(unknownIn.Select(b => b ? '1' : '0')),
            () => JaxprSplit.Split(p, unknownIn));
        var knownArgs = args.Where((_, i) => !unknownIn[i]).Select(a => trace.KnownValue(a)!).ToArray();
        var knownOuts = Prims.Jit.Bind(split.Known, split.KnownConsts.Concat(knownArgs).ToArray());
        int nKnownOut = split.OutUnknown.Count(u => !u);
        var residuals = knownOuts[nKnownOut..].Select(trace.NewKnown).ToArray();
        var unknownArgs = split.UnknownConsts.Select(trace.NewKnown).Concat(residuals).Concat(args.Where((_, i) => unknownIn[i])).ToArray();
        var unknownOuts = trace.Record(Prims.Jit, unknownArgs, split.Unknown, split.Unknown.Jaxpr.OutAvals);
        var result = new Tensor[split.OutUnknown.Length];
        int ki = 0, ui = 0;
        for (int i = 0; i < result.Length; i++)
            result[i] = split.OutUnknown[i] ? unknownOuts[ui++] : trace.NewKnown(knownOuts[ki++]);
        return result;
    }

    static Tensor?[] JitTranspose(Tensor?[] cts, LinearArg[] a, Params ps)
    {
        var p = (JitParams)ps;
        var linear = a.Select(x => x.IsLinear).ToArray();
        var ctNz = cts.Select(c => c is not null).ToArray();
        string key = "T:" + string.Concat(linear.Select(b => b ? '1' : '0')) + ":" + string.Concat(ctNz.Select(b => b ? '1' : '0'));
        var known = a.Where(x => !x.IsLinear).Select(x => x.Known).ToArray();
        var transposed = DerivedPrograms.Get(p.Jaxpr, key, () =>
        {
            var inAvals = a.Where(x => !x.IsLinear).Select(x => x.Aval)
                .Concat(p.Jaxpr.OutAvals.Where((_, i) => ctNz[i]).Select(v => v with { Weak = false })).ToArray();
            var closed = StagingTrace.Stage(args =>
            {
                var full = new Tensor?[a.Length];
                int k = 0;
                for (int i = 0; i < a.Length; i++) if (!linear[i]) full[i] = args[k++];
                var ctIn = new Tensor?[ctNz.Length];
                for (int i = 0; i < ctNz.Length; i++) if (ctNz[i]) ctIn[i] = args[k++];
                var res = Transposer.BackwardPass(p.Jaxpr, Array.Empty<Tensor>(), full, ctIn);
                return res.Select((r, i) => linear[i] ? r ?? ZerosOf(a[i].Aval) : null)
                          .Where((_, i) => linear[i]).Select(r => r!).ToArray();
            }, inAvals, $"Jit({p.Name}) transpose");
            return Program.From(p.Name, closed);
        });
        var outs = transposed.Bind(known.Concat(cts.Where(c => c is not null).Select(c => c!)));
        var result = new Tensor?[a.Length];
        int j = 0;
        for (int i = 0; i < a.Length; i++) if (linear[i]) result[i] = outs[j++];
        return result;
    }

}
