using Stax.Compiler;
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
/// <para>The backend-independent rewrites (<see cref="StandardPasses"/>) run first.</para>
/// </summary>
internal static class CpuSchedule
{
    const long Small = 16;

    public static (Eqn[] Eqns, Var[] OutVars) Order(Jaxpr program)
    {
        var (eqns, outVars) = StandardPasses.Run(program);
        int n = eqns.Length;
        var producer = ProgramAnalysis.Producers(eqns);
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
        var uses = ProgramAnalysis.Uses(eqns, outVars);
        var isSplat = new bool[n];
        var splatsOf = new List<int>?[n];
        // A splat whose one use is a program output has no consumer to ride with: scheduled on its own.
        var outputs = new HashSet<Var>(program.OutVars, ReferenceEqualityComparer.Instance);
        // Bias rows broadcast to a matrix ride with their one consumer too: emitted into the chain of another
        // value of the same size (the previous layer's activation), a row would be written out as a whole matrix.
        // Not a row that is itself a riding broadcast (only equations that are scheduled can be waited on).
        for (int i = 0; i < n; i++)
            isSplat[i] = (ProgramAnalysis.IsSplat(eqns[i])
                    || FusedStep.IsRowBroadcast(eqns[i]) && !(producer.TryGetValue(eqns[i].Inputs[0], out int q) && isSplat[q]))
                && uses.GetValueOrDefault(eqns[i].Outputs[0]) == 1 && !outputs.Contains(eqns[i].Outputs[0]);
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
        return (order.ToArray(), outVars);
    }

}
