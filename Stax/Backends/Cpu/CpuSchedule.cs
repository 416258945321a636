using Stax.Tracing;

namespace Stax.Backends.Cpu;

/// <summary>
/// Reorders a program's equations (any topological order computes the same values) so that
/// fusible elementwise equations of one size become consecutive and fuse into one pass. Traced
/// programs interleave them: an optimizer update maps each step (first moments, second moments,
/// parameters) over every parameter, so in trace order the equations of one parameter are far
/// apart, each pass reads and writes whole tensors, and a train step runs dozens of passes.
/// <para>List scheduling: continue the current chain with a ready equation of the same size when
/// there is one; otherwise run the ready small equations (scalar bookkeeping such as bias
/// corrections, so they do not cut chains later), then the earliest ready equation in trace order.
/// Equations without a CPU kernel keep their relative order.</para>
/// </summary>
internal static class CpuSchedule
{
    const long Small = 16;

    public static (Eqn[] Eqns, Var[] OutVars) Order(Jaxpr program)
    {
        program = Inline(program);
        var eqns = RematerializeSplats(FoldTransposedProducts(program), program.OutVars);
        int n = eqns.Length;
        var producer = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < n; i++) foreach (var v in eqns[i].Outputs) producer[v] = i;
        var consumers = new List<int>[n];
        var pending = new int[n];
        for (int i = 0; i < n; i++) consumers[i] = new List<int>();
        void Edge(int from, int to)
        {
            if (consumers[from].Contains(to)) return;
            consumers[from].Add(to);
            pending[to]++;
        }
        // Splats (broadcast scalars, one consumer each after rematerialisation) are not scheduled
        // on their own: each is emitted right before its consumer, which waits on the scalar instead.
        var uses = Uses(eqns, program.OutVars);
        var isSplat = new bool[n];
        var splatsOf = new List<int>?[n];
        for (int i = 0; i < n; i++) isSplat[i] = IsSplat(eqns[i]) && uses.GetValueOrDefault(eqns[i].Outputs[0]) == 1;
        int lastOpaque = -1;
        for (int i = 0; i < n; i++)
        {
            if (isSplat[i]) continue;
            foreach (var v in eqns[i].Inputs)
            {
                if (!producer.TryGetValue(v, out int p)) continue;
                if (isSplat[p])
                {
                    (splatsOf[i] ??= new List<int>()).Add(p);
                    if (producer.TryGetValue(eqns[p].Inputs[0], out int q)) Edge(q, i);
                }
                else Edge(p, i);
            }
            if (eqns[i].Primitive.Impl != null || !CpuBackend.TryGetKernel(eqns[i].Primitive, out _))
            {
                if (lastOpaque >= 0) Edge(lastOpaque, i);
                lastOpaque = i;
            }
        }
        var size = new long[n];
        var small = new bool[n];
        for (int i = 0; i < n; i++)
        {
            size[i] = FusedStep.Fusible(eqns[i]);
            small[i] = eqns[i].Outputs.All(v => v.Aval.Size <= Small);
        }
        var ready = new SortedSet<int>();
        var readySmall = new SortedSet<int>();
        var readyBySize = new Dictionary<long, SortedSet<int>>();
        void MakeReady(int i)
        {
            ready.Add(i);
            if (small[i]) readySmall.Add(i);
            if (size[i] > 0)
            {
                if (!readyBySize.TryGetValue(size[i], out var set)) readyBySize[size[i]] = set = new SortedSet<int>();
                set.Add(i);
            }
        }
        for (int i = 0; i < n; i++) if (pending[i] == 0 && !isSplat[i]) MakeReady(i);
        var order = new List<Eqn>(n);
        void Emit(int i)
        {
            ready.Remove(i);
            readySmall.Remove(i);
            if (size[i] > 0) readyBySize[size[i]].Remove(i);
            if (splatsOf[i] is { } sp) foreach (int p in sp) order.Add(eqns[p]);
            order.Add(eqns[i]);
            foreach (var c in consumers[i]) if (--pending[c] == 0) MakeReady(c);
        }
        long chain = -1;
        while (ready.Count > 0)
        {
            if (chain > 0 && readyBySize.TryGetValue(chain, out var same) && same.Count > 0) { Emit(same.Min); continue; }
            chain = -1;
            if (readySmall.Count > 0) { Emit(readySmall.Min); continue; }
            int next = ready.Min;
            Emit(next);
            chain = size[next];
        }
        if (order.Count != n) throw new InvalidOperationException("Internal error: the program's equations form a cycle");
        return (order.ToArray(), program.OutVars);
    }

    /// <summary>
    /// Nested jit and custom_jvp_call equations without constants are replaced by their programs'
    /// equations (on evaluation a custom JVP is just its function): their intermediates then come
    /// from the pool, fuse with their neighbours and are freed at their last use, instead of being
    /// evaluated op by op with escaping buffers (softmax and log-softmax inside every loss).
    /// </summary>
    static Jaxpr Inline(Jaxpr program)
    {
        static Jaxpr? Body(Eqn e) => e.Params switch
        {
            JitParams j when j.Jaxpr.ConstVars.Length == 0 => j.Jaxpr,
            CustomJvpParams c when c.Jaxpr.ConstVars.Length == 0 => c.Jaxpr,
            _ => null,
        };
        if (!program.Eqns.Any(e => Body(e) != null)) return program;
        var subst = new Dictionary<Var, Var>(ReferenceEqualityComparer.Instance);
        Var S(Var v) => subst.TryGetValue(v, out var w) ? w : v;
        var result = new List<Eqn>();
        // rename: equations of an inlined body get fresh output variables (a body can be inlined twice).
        void Emit(Eqn e, bool rename)
        {
            var ins = e.Inputs.Select(S).ToArray();
            if (Body(e) is not { } body)
            {
                var outs = e.Outputs;
                if (rename)
                {
                    outs = e.Outputs.Select(v => new Var(v.Aval)).ToArray();
                    for (int k = 0; k < outs.Length; k++) subst[e.Outputs[k]] = outs[k];
                }
                result.Add(e with { Inputs = ins, Outputs = outs });
                return;
            }
            for (int i = 0; i < ins.Length; i++) subst[body.InVars[i]] = ins[i];
            foreach (var inner in body.Eqns) Emit(inner, rename: true);
            for (int i = 0; i < e.Outputs.Length; i++) subst[e.Outputs[i]] = S(body.OutVars[i]);
        }
        foreach (var e in program.Eqns) Emit(e, rename: false);
        return new Jaxpr(program.ConstVars, program.InVars, result.ToArray(), program.OutVars.Select(S).ToArray());
    }

    /// <summary>
    /// A broadcast scalar used by several equations (JVP rules make them: the 0 of relu, the 1/2 of
    /// max's tie rule) is recomputed right before each use instead of stored once at full size:
    /// fused chains then read it from a register and never write or re-read megabytes of one value.
    /// </summary>
    static Eqn[] RematerializeSplats(Eqn[] eqns, Var[] outVars)
    {
        var splat = new Dictionary<Var, Eqn>(ReferenceEqualityComparer.Instance);
        var keep = new HashSet<Var>(outVars, ReferenceEqualityComparer.Instance);
        foreach (var e in eqns)
            if (IsSplat(e) && !keep.Contains(e.Outputs[0])) splat[e.Outputs[0]] = e;
        if (splat.Count == 0) return eqns;
        var result = new List<Eqn>(eqns.Length + splat.Count);
        foreach (var e in eqns)
        {
            if (IsSplat(e) && splat.ContainsKey(e.Outputs[0])) continue;
            var ins = e.Inputs;
            for (int i = 0; i < ins.Length; i++)
                if (splat.TryGetValue(ins[i], out var b))
                {
                    if (ReferenceEquals(ins, e.Inputs)) ins = (Var[])ins.Clone();
                    var fresh = new Var(b.Outputs[0].Aval);
                    result.Add(b with { Outputs = new[] { fresh } });
                    ins[i] = fresh;
                }
            result.Add(ReferenceEquals(ins, e.Inputs) ? e : e with { Inputs = ins });
        }
        return result.ToArray();
    }

    /// <summary>
    /// transpose(dot_general(a, b)) that only swaps the two free-dimension groups is
    /// dot_general(b, a): reverse-mode weight gradients come out this way, and the GEMM reads any
    /// operand strides, so the product is computed in the transposed layout instead of being
    /// written and then copied.
    /// </summary>
    static Eqn[] FoldTransposedProducts(Jaxpr program)
    {
        var eqns = program.Eqns;
        var uses = Uses(eqns, program.OutVars);
        var producer = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < eqns.Length; i++) foreach (var v in eqns[i].Outputs) producer[v] = i;
        Eqn[]? result = null;
        for (int i = 0; i < eqns.Length; i++)
        {
            var t = eqns[i];
            if (t.Primitive != Prims.Transpose || !producer.TryGetValue(t.Inputs[0], out int j)) continue;
            var d = eqns[j];
            if (d.Primitive != Prims.DotGeneral || uses.GetValueOrDefault(d.Outputs[0]) != 1) continue;
            var p = (DotGeneralParams)d.Params;
            int nb = p.LhsBatch.Length, nl = d.Inputs[0].Aval.Rank - nb - p.LhsContracting.Length, nr = d.Inputs[1].Aval.Rank - nb - p.RhsContracting.Length;
            var perm = ((TransposeParams)t.Params).Permutation.ToArray();
            var swapped = Enumerable.Range(0, nb).Concat(Enumerable.Range(nb + nl, nr)).Concat(Enumerable.Range(nb, nl));
            if (!perm.SequenceEqual(swapped)) continue;
            result ??= (Eqn[])eqns.Clone();
            var q = new DotGeneralParams(p.RhsContracting, p.LhsContracting, p.RhsBatch, p.LhsBatch, p.PreferredElementType);
            // The product moves to the transpose's place (its operands are defined by then).
            result[j] = null!;
            result[i] = new Eqn(Prims.DotGeneral, q, new[] { d.Inputs[1], d.Inputs[0] }, t.Outputs, d.Scope);
        }
        return result == null ? eqns : result.Where(e => e != null).ToArray();
    }

    // A scalar broadcast to a larger shape.
    static bool IsSplat(Eqn e) => e.Primitive == Prims.BroadcastInDim && e.Inputs[0].Aval.Size == 1 && e.Outputs[0].Aval.Size > 1;

    // How often each variable is read (program outputs count as a read).
    static Dictionary<Var, int> Uses(Eqn[] eqns, Var[] outVars)
    {
        var uses = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        foreach (var e in eqns) foreach (var v in e.Inputs) uses[v] = uses.GetValueOrDefault(v) + 1;
        foreach (var v in outVars) uses[v] = uses.GetValueOrDefault(v) + 1;
        return uses;
    }
}
