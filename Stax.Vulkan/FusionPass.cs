using Stax.Backends;
using Stax.Compiler;
using Stax.Tracing;

namespace Stax.Vulkan;

/// <summary>The parameters of a fused chain: its kernel, specialized, and each input's load mode.</summary>
/// <param name="Shader">One of the fused kernels (see <see cref="FusionKernel"/>).</param>
/// <param name="Spec">The specialization constants that bake the chain into the kernel.</param>
/// <param name="Modes">Per input: 0 element i, 1 element 0 (a splat), 2 a row, 3 a column; +4 a bool input.</param>
/// <param name="Summary">The fused primitives, for names and diagnostics.</param>
internal sealed record FusedChainParams(string Shader, int[] Spec, int[] Modes, string Summary) : Params
{
    /// <inheritdoc/>
    public override string ToString() => Summary;
}

/// <summary>
/// Fusion of elementwise chains on the GPU: equations of one output size that are registry
/// operators on float32 (arithmetic, comparisons, predicates) or int32 (wrapping arithmetic,
/// max/min, comparisons), select, conversions to float32, and broadcasts of scalars, rows and
/// columns, become one <see cref="Fused"/> equation, run as one dispatch of a precompiled kernel
/// specialized with the chain (<see cref="FusionKernel"/>: users have no shader compiler, and
/// specialization constants let the driver compile each chain into straight-line code). The chain
/// is first encoded as a small register program (loads, operations, stores), which
/// <see cref="FusionKernel.Specialize"/> turns into the kernel's constants.
/// <para>Grouping walks the equations in order: a fusible equation joins the open group of its
/// size, after closing any other open group that produces one of its operands; any other equation
/// first closes the open groups it reads from. So a group's operands are all computed before it,
/// and the order stays topological. A closed group is cut into pieces that fit the kernel
/// (24 inputs, 4 outputs, 48 steps); a piece's outputs are its values read outside it.
/// Scalars computed by fusible chains are recomputed inside the chains that splat them, and bool
/// masks whose readers are all fused selects or conversions are recomputed by those readers
/// (fused outputs are 32-bit).</para>
/// </summary>
internal static class FusionPass
{
    /// <summary>The fused-chain pseudo-primitive (only inside compiled Vulkan programs).</summary>
    public static readonly Primitive Fused = new("fused_elementwise", PrimitiveFamily.Control,
        (_, _) => throw new InvalidOperationException("fused_elementwise exists only inside compiled Vulkan programs"),
        multipleResults: true);

    const int MaxInputs = 24, MaxRegisters = 64;

    /// <summary>Outputs of one fused chain (the kernel's bindings 0..3).</summary>
    public const int MaxOutputs = 4;

    /// <summary>Storage buffers the fused kernel binds: 4 outputs, 24 inputs.</summary>
    public const int Bindings = MaxOutputs + MaxInputs;
    const uint Load = 100, Store = 101, OpSelect = 64, OpConvert = 65, IntOp = 128;

    sealed record Context(Dictionary<Var, List<Eqn>> Uses, HashSet<Var> ProgramOut, Dictionary<Var, Eqn> ScalarDef,
        Dictionary<Var, Eqn> Remat, Dictionary<Var, Eqn> Broadcasts);

    sealed class Group(long size)
    {
        public readonly long Size = size;
        public readonly List<Eqn> Members = new();
        public bool Open = true;
    }

    /// <summary>The equations with fusible chains replaced by fused equations.</summary>
    public static Eqn[] Run(Eqn[] eqns, Var[] outVars)
    {
        eqns = ScalarsFirst(eqns);
        var uses = new Dictionary<Var, List<Eqn>>(ReferenceEqualityComparer.Instance);
        foreach (var e in eqns)
            foreach (var v in e.Inputs)
            {
                if (!uses.TryGetValue(v, out var l)) uses[v] = l = new List<Eqn>();
                l.Add(e);
            }
        var programOut = new HashSet<Var>(outVars, ReferenceEqualityComparer.Instance);
        // Scalars a fusible equation computes: chains recompute them (see Encode).
        var scalarDef = new Dictionary<Var, Eqn>(ReferenceEqualityComparer.Instance);
        foreach (var e in eqns)
            if (e.Primitive != Prims.BroadcastInDim && FusibleSize(e) == 1) scalarDef[e.Outputs[0]] = e;
        // Bool masks (ReLU's x > 0) that their readers recompute instead of loading: fused outputs
        // are 32-bit, and the comparison's float32 operand is usually stored anyway. Only for masks
        // every reader of which is a select (as the predicate) or a conversion of the same size,
        // whose operands are not bool. Their readers count as readers of the mask's operands
        // (of a broadcast's source, since broadcasts are loads), so those are stored.
        var remat = new Dictionary<Var, Eqn>(ReferenceEqualityComparer.Instance);
        var bdef = new Dictionary<Var, Eqn>(ReferenceEqualityComparer.Instance);
        foreach (var e in eqns)
            if (e.Primitive == Prims.BroadcastInDim && FusibleSize(e) > 0) bdef[e.Outputs[0]] = e;
        foreach (var e in eqns)
        {
            var o = e.Outputs[0];
            long size = FusibleSize(e);
            if (e.Primitive == Prims.BroadcastInDim || size <= 1 || o.Aval.DType != DType.Bool || programOut.Contains(o)
                || e.Inputs.Any(v => v.Aval.DType == DType.Bool) || !uses.TryGetValue(o, out var readers)) continue;
            if (!readers.All(c => FusibleSize(c) == size && (c.Primitive == Prims.ConvertElementType
                || (c.Primitive == Prims.Select && !ReferenceEquals(c.Inputs[1], o) && !ReferenceEquals(c.Inputs[2], o)))))
                continue;
            remat[o] = e;
            foreach (var c in readers)
                foreach (var x in e.Inputs)
                {
                    var t = bdef.TryGetValue(x, out var b) ? b.Inputs[0] : x;
                    if (!uses.TryGetValue(t, out var l)) uses[t] = l = new List<Eqn>();
                    l.Add(c);
                }
        }
        var ctx = new Context(uses, programOut, scalarDef, remat, bdef);
        var open = new Dictionary<long, Group>();
        var producer = new Dictionary<Var, Group>(ReferenceEqualityComparer.Instance);
        var result = new List<Eqn>(eqns.Length);
        void Close(Group g)
        {
            if (!g.Open) return;
            g.Open = false;
            open.Remove(g.Size);
            result.AddRange(Cut(g, ctx));
        }
        foreach (var e in eqns)
        {
            long n = FusibleSize(e);
            foreach (var v in e.Inputs)
            {
                if (producer.TryGetValue(v, out var g) && g.Open && (n == 0 || g.Size != n)) Close(g);
                // A recomputed mask reads its operands here.
                if (remat.TryGetValue(v, out var m))
                    foreach (var x in m.Inputs)
                    {
                        var t = bdef.TryGetValue(x, out var b) ? b.Inputs[0] : x;
                        if (producer.TryGetValue(t, out var h) && h.Open && h.Size != n) Close(h);
                    }
            }
            if (n == 0) { result.Add(e); continue; }
            if (!open.TryGetValue(n, out var group)) open[n] = group = new Group(n);
            group.Members.Add(e);
            producer[e.Outputs[0]] = group;
        }
        foreach (var g in open.Values.ToArray()) Close(g);
        // Scalar chains that every reader recomputes are no longer needed on their own.
        return DeadCodeElimination.Run(result.ToArray(), outVars, _ => true);
    }

    /// <summary>
    /// A topological order that runs each scalar equation as soon as its operands exist (otherwise
    /// trace order): scalar bookkeeping (an optimizer's bias corrections) then forms one chain
    /// before the tensors' chains instead of cutting each of them in two.
    /// </summary>
    static Eqn[] ScalarsFirst(Eqn[] eqns)
    {
        int n = eqns.Length;
        var producer = ProgramAnalysis.Producers(eqns);
        var consumers = new List<int>[n];
        var pending = new int[n];
        for (int i = 0; i < n; i++) consumers[i] = new List<int>();
        for (int i = 0; i < n; i++)
            foreach (var v in eqns[i].Inputs.Distinct(ReferenceEqualityComparer.Instance).Cast<Var>())
                if (producer.TryGetValue(v, out int p)) { consumers[p].Add(i); pending[i]++; }
        var small = new SortedSet<int>();
        var other = new SortedSet<int>();
        void Ready(int i) => (eqns[i].Outputs.All(v => v.Aval.Size <= 1) ? small : other).Add(i);
        for (int i = 0; i < n; i++) if (pending[i] == 0) Ready(i);
        var order = new List<Eqn>(n);
        while (small.Count + other.Count > 0)
        {
            var set = small.Count > 0 ? small : other;
            int i = set.Min;
            set.Remove(i);
            order.Add(eqns[i]);
            foreach (int c in consumers[i]) if (--pending[c] == 0) Ready(c);
        }
        if (order.Count != n) throw new InvalidOperationException("Internal error: the program's equations form a cycle");
        return order.ToArray();
    }

    // The output size when the equation can join a fused chain, else 0.
    static long FusibleSize(Eqn e)
    {
        if (e.Outputs.Length != 1) return 0;
        var o = e.Outputs[0].Aval;
        if (o.Size == 0) return 0;
        bool F(Var v) => v.Aval.DType == DType.Float32;
        bool B(Var v) => v.Aval.DType == DType.Bool;
        bool I(Var v) => v.Aval.DType == DType.Int32;
        if (e.Primitive == Prims.BroadcastInDim)
        {
            if (!(F(e.Inputs[0]) || B(e.Inputs[0]) || I(e.Inputs[0]))) return 0;
            return BroadcastMode(e) >= 0 ? o.Size : 0;
        }
        if (e.Primitive == Prims.Select)
            return B(e.Inputs[0]) && (F(e.Inputs[1]) || I(e.Inputs[1])) && e.Inputs[2].Aval.DType == e.Inputs[1].Aval.DType
                && e.Outputs[0].Aval.DType == e.Inputs[1].Aval.DType && e.Inputs.All(v => v.Aval.Size == o.Size) ? o.Size : 0;
        if (e.Primitive == Prims.ConvertElementType)
            return e.Inputs[0].Aval.DType is DType.Float32 or DType.Bool or DType.Int32 or DType.UInt32
                && F(e.Outputs[0]) && e.Inputs[0].Aval.Size == o.Size ? o.Size : 0;
        var op = ElementwiseOps.Find(e.Primitive, e.Params);
        if (op == null || !e.Inputs.All(v => v.Aval.Size == o.Size)) return 0;
        bool comparison = op.VulkanOp is >= 47 and <= 52;
        if (e.Inputs.All(I))
        {
            // int32: the wrapping arithmetic, max/min and comparisons (fused.glsl's opInt).
            bool intOp = op.VulkanOp is 0 or >= 32 and <= 34 or 38 or 39 || comparison;
            return intOp && (comparison ? B(e.Outputs[0]) : I(e.Outputs[0])) ? o.Size : 0;
        }
        if (!e.Inputs.All(F)) return 0;
        bool implemented = op.VulkanOp is >= 0 and <= 18 or 20 or >= 32 and <= 40 or >= 47 and <= 52;
        bool types = op.Arity switch
        {
            ElementwiseArity.Unary or ElementwiseArity.Binary => F(e.Outputs[0]),
            _ => B(e.Outputs[0]),
        };
        return implemented && types ? o.Size : 0;
    }

    // A broadcast's load mode: 1 a scalar, 2 a row ([n] along the last of two axes), 3 a column; -1 otherwise.
    static int BroadcastMode(Eqn e)
    {
        var p = (BroadcastInDimParams)e.Params;
        var i = e.Inputs[0].Aval;
        if (i.Size == 1) return 1;
        if (i.Rank != 1 || p.Shape.Rank != 2) return -1;
        if (p.BroadcastDimensions[0] == 1 && i.Shape[0] == p.Shape[1]) return 2;
        if (p.BroadcastDimensions[0] == 0 && i.Shape[0] == p.Shape[0]) return 3;
        return -1;
    }

    // Cuts a closed group into pieces that fit the kernel; single equations stay themselves.
    static IEnumerable<Eqn> Cut(Group g, Context ctx)
    {
        var members = g.Members;
        int start = 0;
        while (start < members.Count)
        {
            int end = start + 1;
            Eqn? best = null;
            int bestEnd = start + 1;
            // The longest piece that fits (a shorter prefix may not: values it would still have to
            // write can be consumed by later members).
            for (; end <= members.Count; end++)
            {
                var piece = Encode(members.GetRange(start, end - start), ctx, g.Size > 1);
                if (piece == null) continue;
                best = piece;
                bestEnd = end;
            }
            if (best == null || bestEnd - start < 2)
            {
                // A reader of a recomputed mask runs as a chain of its own (the mask is never stored).
                var single = members[start];
                if (single.Inputs.Any(ctx.Remat.ContainsKey))
                    yield return Encode(new List<Eqn> { single }, ctx, g.Size > 1)
                        ?? throw new InvalidOperationException(
                            $"Internal error: {single.Primitive.Name} reads a recomputed mask but does not fit a fused chain");
                else yield return single;
            }
            else yield return best;
            start = Math.Max(bestEnd, start + 1);
        }
    }

    // The fused equation of a piece, or null when it does not fit the kernel (or writes a bool).
    // A splat of a scalar that a fusible chain computes (bias corrections from the step count)
    // recomputes that chain in a prelude instead of loading it: the scalar chain then needs no
    // dispatch of its own, which would also have to write every scalar that later chains read.
    static Eqn? Encode(List<Eqn> members, Context ctx, bool splatScalars)
    {
        var uses = ctx.Uses;
        var programOut = ctx.ProgramOut;
        var scalarDef = splatScalars ? ctx.ScalarDef : null;
        var inPiece = new HashSet<Eqn>(members, ReferenceEqualityComparer.Instance);
        var produced = new HashSet<Var>(members.Select(e => e.Outputs[0]), ReferenceEqualityComparer.Instance);
        // Outputs: values read outside the piece (or returned), not recomputed masks; they must be float32 or int32.
        var outputs = members.Select(e => e.Outputs[0])
            .Where(v => !ctx.Remat.ContainsKey(v)
                        && (programOut.Contains(v) || (uses.TryGetValue(v, out var l) && l.Any(c => !inPiece.Contains(c)))))
            .ToList();
        // Masks read here but computed elsewhere are recomputed just before their first reader
        // (their broadcast operands, loads, go first).
        var piece = new List<Eqn>();
        var front = new List<Eqn>();
        foreach (var e in members)
        {
            foreach (var v in e.Inputs)
            {
                if (produced.Contains(v) || !ctx.Remat.TryGetValue(v, out var m)) continue;
                foreach (var x in m.Inputs)
                    if (!produced.Contains(x) && ctx.Broadcasts.TryGetValue(x, out var b)) { front.Add(b); produced.Add(x); }
                piece.Add(m);
                produced.Add(v);
            }
            piece.Add(e);
        }
        piece.InsertRange(0, front);
        if (outputs.Count > MaxOutputs || outputs.Any(v => v.Aval.DType is not (DType.Float32 or DType.Int32))) return null;
        // Inputs: (variable, mode) loaded before anything is computed.
        var inputs = new List<(Var Var, int Mode, uint C)>();
        int InputOf(Var v, int mode, uint c)
        {
            int k = inputs.FindIndex(x => ReferenceEquals(x.Var, v) && x.Mode == mode);
            if (k < 0) { inputs.Add((v, mode, c)); k = inputs.Count - 1; }
            return k;
        }
        var prelude = new List<Eqn>();
        var inPrelude = new HashSet<Var>(ReferenceEqualityComparer.Instance);
        void Expand(Var v)
        {
            if (inPrelude.Contains(v)) return;
            if (scalarDef == null || !scalarDef.TryGetValue(v, out var d)) { InputOf(v, 1, 0); return; }
            foreach (var x in d.Inputs) Expand(x);
            prelude.Add(d);
            inPrelude.Add(v);
        }
        foreach (var e in piece)
        {
            if (e.Primitive == Prims.BroadcastInDim)
            {
                if (produced.Contains(e.Inputs[0])) return null; // a broadcast of an in-piece value would need other elements
                int mode = BroadcastMode(e);
                if (mode == 1 && scalarDef != null && scalarDef.ContainsKey(e.Inputs[0])) { Expand(e.Inputs[0]); continue; }
                uint c = mode == 2 ? (uint)e.Outputs[0].Aval.Shape[1] : mode == 3 ? (uint)e.Outputs[0].Aval.Shape[1] : 0;
                InputOf(e.Inputs[0], mode, c);
            }
            else
                foreach (var v in e.Inputs) if (!produced.Contains(v)) InputOf(v, 0, 0);
        }
        if (inputs.Count > MaxInputs) return null;
        // Last use of each value inside the piece (an index into the piece), for register reuse.
        var lastUse = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int k = 0; k < piece.Count; k++) foreach (var v in piece[k].Inputs) lastUse[v] = k;
        var code = new List<uint>();
        var reg = new Dictionary<(Var, int), int>();
        var free = new Stack<int>();
        int next = 0;
        int Alloc() => free.Count > 0 ? free.Pop() : next++;
        void Emit(uint op, int d, int a, int b, uint c)
            => code.AddRange(new[] { op | (uint)d << 8 | (uint)a << 16 | (uint)b << 24, c });
        void EmitOp(Eqn e, int d, int[] ops)
        {
            if (e.Primitive == Prims.Select) Emit(OpSelect, d, ops[0], ops[1], (uint)ops[2]);
            else if (e.Primitive == Prims.ConvertElementType)
                Emit(OpConvert, d, ops[0], 0,
                     e.Inputs[0].Aval.DType switch { DType.Bool => 1u, DType.Int32 => 2u, DType.UInt32 => 3u, _ => 0u });
            else
            {
                uint code = (uint)ElementwiseOps.Find(e.Primitive, e.Params)!.VulkanOp;
                if (e.Inputs[0].Aval.DType == DType.Int32) code |= IntOp;
                Emit(code, d, ops[0], ops.Length > 1 ? ops[1] : 0, 0);
            }
        }
        var loadedReg = new int[inputs.Count];
        for (int k = 0; k < inputs.Count; k++)
        {
            var (v, mode, c) = inputs[k];
            loadedReg[k] = Alloc();
            Emit(Load, loadedReg[k], k, mode | (v.Aval.DType == DType.Bool ? 4 : 0), c);
        }
        // Register of an operand: a value computed in the piece (by its variable), else its full load.
        var valueReg = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        foreach (var e in prelude)
        {
            var ops = e.Inputs.Select(v => valueReg.TryGetValue(v, out int r)
                    ? r
                    : loadedReg[inputs.FindIndex(x => ReferenceEquals(x.Var, v) && x.Mode == 1)])
                .ToArray();
            int d = Alloc(); // prelude values live to the end
            EmitOp(e, d, ops);
            valueReg[e.Outputs[0]] = d;
        }
        // Broadcasts are loads: their values exist from the start (a recomputed mask may read one before its place).
        int Broadcast(Eqn e) => inPrelude.Contains(e.Inputs[0]) ? valueReg[e.Inputs[0]]
            : loadedReg[inputs.FindIndex(x => ReferenceEquals(x.Var, e.Inputs[0]) && x.Mode == BroadcastMode(e))];
        foreach (var e in piece) if (e.Primitive == Prims.BroadcastInDim) valueReg[e.Outputs[0]] = Broadcast(e);
        int Operand(Var v) => valueReg.TryGetValue(v, out int r)
            ? r
            : loadedReg[inputs.FindIndex(x => ReferenceEquals(x.Var, v) && x.Mode == 0)];
        var freed = new HashSet<int>();   // registers on the free stack
        var computed = new HashSet<Var>(ReferenceEqualityComparer.Instance);
        // A register dies with its value: computed values and full loads (broadcast loads may
        // serve several splats of one scalar, so they live to the end).
        bool Dies(Var v) => computed.Contains(v)
            || (!valueReg.ContainsKey(v) && inputs.FindIndex(x => ReferenceEquals(x.Var, v) && x.Mode == 0) >= 0);
        for (int k = 0; k < piece.Count; k++)
        {
            var e = piece[k];
            var o = e.Outputs[0];
            int d;
            if (e.Primitive == Prims.BroadcastInDim)
                d = Broadcast(e);
            else
            {
                var ops = e.Inputs.Select(Operand).ToArray();
                // Operands read for the last time here free their registers (the result may reuse one).
                for (int j = 0; j < e.Inputs.Length; j++)
                {
                    var v = e.Inputs[j];
                    if (lastUse[v] == k && Dies(v) && freed.Add(ops[j])) free.Push(ops[j]);
                }
                d = Alloc();
                EmitOp(e, d, ops);
                freed.Remove(d);
                computed.Add(o);
            }
            valueReg[o] = d;
            int slot = outputs.FindIndex(x => ReferenceEquals(x, o));
            if (slot >= 0) Emit(Store, 0, d, slot, 0);
            if (!lastUse.ContainsKey(o) && computed.Contains(o) && freed.Add(d)) free.Push(d); // never read in the piece
        }
        if (next > MaxRegisters) return null;
        var program = new uint[1 + code.Count];
        program[0] = (uint)(code.Count / 2);
        code.CopyTo(program, 1);
        if (FusionKernel.Specialize(program) is not { } kernel) return null;
        var summary = $"fused[{string.Join(",", piece.Select(e => e.Primitive.Name))}]";
        var p = new FusedChainParams(kernel.Shader, kernel.Spec,
                                     inputs.Select(x => x.Mode | (x.Var.Aval.DType == DType.Bool ? 4 : 0)).ToArray(), summary);
        return new Eqn(Fused, p, inputs.Select(x => x.Var).ToArray(), outputs.ToArray());
    }
}
