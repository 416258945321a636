using Stax.Tracing;

namespace Stax.Rules;

internal static partial class RuleRegistry
{
    static partial void RegisterCustom()
    {
        RegisterCustomJvp();
        RegisterCollectives();
    }

    static void RegisterCustomJvp()
    {
        var call = Prims.CustomJvpCall;

        // JVP: the user's rule, on primals and tangents with symbolic zeros instantiated. The rule is
        // ordinary Stax code, so it composes with whatever traces surround it (linearize records its
        // tangent part; an outer Jvp differentiates it again, which is how Grad of Grad works).
        call.Jvp = (xs, ts, ps) =>
        {
            var p = (CustomJvpParams)ps;
            for (int i = 0; i < p.NumConsts; i++)
                if (ts[i] is not null)
                    throw new InvalidOperationException(
                        $"custom_jvp ({p.Name}): differentiation with respect to a value the function closes over. The custom JVP rule only " +
                        "says how to differentiate with respect to the explicit arguments; pass that value as an argument instead.");
            var tangents = ts.Select((t, i) => t ?? Np.ZerosLike(xs[i])).ToArray();
            var (po, to) = p.Jvp(xs, tangents);
            var want = p.Jaxpr.OutAvals;
            if (po is null || to is null || po.Length != want.Length || to.Length != want.Length)
                throw new ArgumentException($"custom_jvp ({p.Name}): the jvp rule must return {want.Length} primal outputs and {want.Length} tangents, " +
                    $"got {po?.Length.ToString() ?? "null"} and {to?.Length.ToString() ?? "null"}");
            var tout = new Tensor?[want.Length];
            for (int i = 0; i < want.Length; i++)
            {
                if (po[i].Shape != want[i].Shape || po[i].DType != want[i].DType)
                    throw new ArgumentException($"custom_jvp ({p.Name}): the jvp rule's primal output {i} has type {po[i].Aval}, the function returns {want[i]}");
                if (to[i].Shape != want[i].Shape || to[i].DType != want[i].DType)
                    throw new ArgumentException($"custom_jvp ({p.Name}): the jvp rule's tangent output {i} has type {to[i].Aval}, expected {want[i] with { Weak = false }} (the primal output's type)");
                tout[i] = to[i];
            }
            return (po, tout);
        };

        // Vmap: batch the program (staged once per mapped-dimension pattern) and batch the rule with
        // the same dimensions, so that differentiating the batched call later uses the batched rule.
        // Outputs are mapped where the batched program puts them (unmapped ones at 0), for the program
        // and the rule alike.
        call.Batch = (ctx, xs, ds, ps) =>
        {
            var p = (CustomJvpParams)ps;
            int n = ctx.AxisSize;
            string key = $"custom_jvp vmap:{n}:{ctx.AxisName}:" + string.Join(",", ds.Select(d => d?.ToString() ?? "-"));
            var (batched, consts, outDims) = DerivedPrograms.Get(p.Jaxpr, key, () =>
            {
                int[] od = Array.Empty<int>();
                var closed = StagingTrace.Stage(args =>
                {
                    using var scope = TraceState.Begin(l => new BatchTrace(l, n, ctx.AxisName));
                    var tr = scope.Trace;
                    var ins = args.Select((a, i) => tr.New(a, ds[i])).ToArray();
                    var outs = JaxprEval.Eval(p.Jaxpr, Array.Empty<Tensor>(), ins).Select(tr.Unpack).ToArray();
                    // Outputs keep their natural mapped dimension; unmapped ones are mapped at 0.
                    od = outs.Select(o => o.Dim ?? 0).ToArray();
                    return outs.Select((o, i) => BatchRules.MoveTo(o.Value, o.Dim, od[i], n)).ToArray();
                }, xs.Select(x => x.Aval).ToArray(), $"custom_jvp({p.Name}) vmap");
                var (converted, consts) = closed.ConstantsAsInputs();
                return (converted, consts, od);
            });
            int k = consts.Length;
            var live = ctx.Trace;
            CustomJvpRule rule = (prims, tans) =>
            {
                // Prefer the Vmap trace that batched the call (the rule may close over its values);
                // once it has finished (a staged program differentiated later), batch afresh.
                if (live.IsActive) return BatchedJvp(live, p.Jvp, prims[k..], tans[k..], ds, outDims, n);
                using var scope = TraceState.Begin(l => new BatchTrace(l, n, ctx.AxisName));
                return BatchedJvp(scope.Trace, p.Jvp, prims[k..], tans[k..], ds, outDims, n);
            };
            var bp = new CustomJvpParams(p.Name, batched, k + p.NumConsts, rule);
            var res = call.Bind(bp, consts.Concat(xs).ToArray());
            return (res, outDims.Select(d => (int?)d).ToArray());
        };
    }

    static (Tensor[] Primals, Tensor[] Tangents) BatchedJvp(BatchTrace tr, CustomJvpRule jvp, Tensor[] prims, Tensor[] tans, int?[] dims, int[] outDims, int n)
    {
        var bp = prims.Select((x, i) => tr.New(x, dims[i])).ToArray();
        var bt = tans.Select((t, i) => tr.New(t, dims[i])).ToArray();
        var (po, to) = jvp(bp, bt);
        if (po.Length != outDims.Length || to.Length != outDims.Length)
            return (po, to); // wrong arity: the JVP rule reports it
        Tensor Out(Tensor o, int i)
        {
            var (v, d) = tr.Unpack(o);
            return BatchRules.MoveTo(v, d, outDims[i], n);
        }
        return (po.Select(Out).ToArray(), to.Select(Out).ToArray());
    }
}
