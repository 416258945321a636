using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Stax.Backends.Cpu.Simd;
using Stax.Tracing;

namespace Stax.Backends.Cpu;

/// <summary>
/// A chain of consecutive float32 elementwise equations of one size (unary and binary arithmetic,
/// comparisons, select, broadcasts of a scalar or of a trailing row such as a bias,
/// float32-to-float32 conversions) run as one pass over memory: tile by tile, each equation
/// applies its precompiled SIMD operator struct (the float32 operator of the elementwise registry,
/// the same one the eager kernel uses, so results are bit-identical) to cache-resident tiles; only values needed after the chain (or returned)
/// are written to buffers. Booleans live in tiles as 0/1 floats and are read from / written to
/// bool buffers at the chain's edges. Where a JIT is present, chains whose nodes all have Vector512 forms run a loop
/// generated at compile time instead (<see cref="FusedChainCodegen"/>).
/// </summary>
internal sealed class FusedStep : CpuExecutable.Step
{
    const int Tile = 1024;

    // select(pred, onTrue, onFalse) over tiles, pred as 0/1 floats.
    static void SelectRange(Isa isa, ref float p, ref float t, ref float f, ref float y, int n)
    {
        int i = 0;
        if (isa == Isa.Vector512)
            for (; i <= n - 16; i += 16)
                Vector512.ConditionalSelect(Vector512.Equals(Vector512.LoadUnsafe(ref p, (nuint)i), Vector512<float>.Zero),
                    Vector512.LoadUnsafe(ref f, (nuint)i), Vector512.LoadUnsafe(ref t, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        else if (isa == Isa.Vector256)
            for (; i <= n - 8; i += 8)
                Vector256.ConditionalSelect(Vector256.Equals(Vector256.LoadUnsafe(ref p, (nuint)i), Vector256<float>.Zero),
                    Vector256.LoadUnsafe(ref f, (nuint)i), Vector256.LoadUnsafe(ref t, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        else if (isa == Isa.Vector128)
            for (; i <= n - 4; i += 4)
                Vector128.ConditionalSelect(Vector128.Equals(Vector128.LoadUnsafe(ref p, (nuint)i), Vector128<float>.Zero),
                    Vector128.LoadUnsafe(ref f, (nuint)i), Vector128.LoadUnsafe(ref t, (nuint)i)).StoreUnsafe(ref y, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref p, i) != 0 ? Unsafe.Add(ref t, i) : Unsafe.Add(ref f, i);
    }

    static readonly FusedInstr Copy = new FusedUnary<IdentityOp<float>>();

    // The operator of an elementwise equation from the registry, when it has a float32 form.
    static ElementwiseOp? Op(Eqn e) => ElementwiseOps.Find(e.Primitive, e.Params) is { Fusible: true } op ? op : null;

    static bool IsF32(Var v) => v.Aval.DType == DType.Float32;

    /// <summary>The element count of <paramref name="e"/>'s output when it can join a fused chain; -1 otherwise.</summary>
    internal static long Fusible(Eqn e)
    {
        if (e.Outputs.Length != 1) return -1;
        var shape = e.Outputs[0].Aval.Shape;
        long n = shape.Size;
        if (n == 0) return -1;
        var p = e.Primitive;
        bool Same(int i, DType t) => e.Inputs[i].Aval.DType == t && e.Inputs[i].Aval.Shape == shape;
        var outType = e.Outputs[0].Aval.DType;
        if (Op(e) is { } op)
        {
            bool unary = op.Arity is ElementwiseArity.Unary or ElementwiseArity.Predicate;
            bool boolOut = op.Arity is ElementwiseArity.Comparison or ElementwiseArity.Predicate;
            return e.Inputs.Length == (unary ? 1 : 2) && e.Inputs.All(v => IsF32(v) && v.Aval.Shape == shape)
                && outType == (boolOut ? DType.Bool : DType.Float32) ? n : -1;
        }
        if (outType != DType.Float32) return -1;
        if (p == Prims.Select) return e.Inputs.Length == 3 && Same(0, DType.Bool) && Same(1, DType.Float32) && Same(2, DType.Float32) ? n : -1;
        if (p == Prims.BroadcastInDim) return e.Inputs.Length == 1 && IsF32(e.Inputs[0]) && (e.Inputs[0].Aval.Size == 1 || IsRow(e)) ? n : -1;
        if (p == Prims.ConvertElementType) return e.Inputs.Length == 1 && IsF32(e.Inputs[0]) ? n : -1;
        return -1;
    }

    /// <summary>A float32 broadcast_in_dim of a row (more than one element) to the output's trailing dimensions.</summary>
    internal static bool IsRowBroadcast(Eqn e)
        => e.Primitive == Prims.BroadcastInDim && e.Inputs.Length == 1 && e.Outputs.Length == 1 && IsF32(e.Inputs[0])
            && e.Outputs[0].Aval.DType == DType.Float32 && e.Inputs[0].Aval.Size > 1 && e.Outputs[0].Aval.Size > e.Inputs[0].Aval.Size
            && IsRow(e);

    // A broadcast whose operand is the output's trailing dimensions (a bias row): element i of the
    // output is element i mod size of the operand.
    static bool IsRow(Eqn e)
    {
        var ins = e.Inputs[0].Aval.Shape;
        var outs = e.Outputs[0].Aval.Shape;
        var dims = ((BroadcastInDimParams)e.Params).BroadcastDimensions;
        int off = outs.Rank - ins.Rank;
        for (int i = 0; i < ins.Rank; i++)
            if (dims[i] != off + i || ins[i] != outs[off + i]) return false;
        return true;
    }

    /// <summary>The end (exclusive) of the longest fusible chain starting at <paramref name="start"/>.</summary>
    internal static int ChainEnd(Eqn[] eqns, int start)
    {
        long n = Fusible(eqns[start]);
        if (n < 0) return start;
        int end = start + 1;
        while (end < eqns.Length && Fusible(eqns[end]) == n) end++;
        return end;
    }

    // Locations of values: external slot (read), scratch tile, materialized output slot, or a
    // splat (a broadcast scalar, index into the splat values: never stored as a tile).
    internal enum Kind : byte { None, External, Scratch, Output, Splat }
    internal readonly record struct Loc(Kind Kind, int Index);

    internal enum NodeOp : byte { Apply, Fill, Select, LoadBool, StoreBool, Row }

    // Apply: Dst = Instr(A, B, splat); Fill: Dst = splat; Select: Dst = A ? B : C; LoadBool /
    // StoreBool: bool bytes <-> 0/1 floats; Row: Dst[j] = A[(t0 + j) mod Period].
    internal sealed record Node(NodeOp Op, FusedInstr? Instr, Loc A, Loc B, Loc Dst, int SplatIndex, Loc C = default,
        long Period = 0);

    readonly Node[] _nodes;
    readonly Primitive[] _prims;
    readonly int[] _splatSlots;
    readonly int[] _reads, _writes;
    readonly DType[] _writeTypes;
    // Per write: input slots whose buffer the output may take over (in-place update).
    int[][] _aliases = Array.Empty<int[]>();
    int[] _localSlots = Array.Empty<int>();
    // Local indices of the float32 arrays that elementwise nodes read (prefetched ahead).
    int[] _streams = Array.Empty<int>();
    readonly long _n;
    readonly int _scratch;
    // The chain's loops generated at compile time (registers instead of tiles) for Vector512 and Vector256, or null:
    // interpreter only.
    FusedChainLoop? _loop, _loop256;

    FusedStep(Node[] nodes, Primitive[] prims, int[] splatSlots, int[] reads, int[] writes, DType[] writeTypes, long n, int scratch)
    {
        _writeTypes = writeTypes;
        _prims = prims;
        _splatSlots = splatSlots;
        _nodes = nodes;
        _reads = reads;
        _writes = writes;
        _n = n;
        _scratch = scratch;
    }

    public override int[] Reads => _reads;
    public override int[] Writes => _writes;
    public override string Name
        => $"fused n={_n}: {_nodes.Length} ops, {_reads.Length} reads, {_writes.Length} writes"
            + (_loop != null || _loop256 != null ? ", generated" : "");

    internal static FusedStep Build(CpuBackend backend, Eqn[] eqns, int start, int end, Dictionary<Var, int> slotOf,
        bool[] isOutput, int[] lastUseEqn, int nArgs, int[]? noAlias = null)
    {
        var where = new Dictionary<int, Loc>();
        var reads = new List<int>();
        var writes = new List<int>();
        var writeTypes = new List<DType>();
        int scratch = 0;
        var nodes = new List<Node>();
        var splatSlots = new List<int>();
        // Scratch tiles are reused once their value's last reader in the chain has run, so the
        // working set stays a few tiles (L1) however long the chain is.
        var freeTiles = new Stack<int>();
        var tileOf = new Dictionary<int, int>();   // slot -> scratch tile, for values in scratch
        var pendingFree = new List<int>();
        Loc NewTile(int slot)
        {
            int tile = freeTiles.Count > 0 ? freeTiles.Pop() : scratch++;
            tileOf[slot] = tile;
            return new Loc(Kind.Scratch, tile);
        }
        Loc Read(Var v)
        {
            int s = slotOf[v];
            if (where.TryGetValue(s, out var l)) return l;
            if (!reads.Contains(s)) reads.Add(s);
            var ext = new Loc(Kind.External, s);
            if (v.Aval.DType != DType.Bool) return ext;
            // A bool from outside the chain: loaded once as 0/1 floats, kept until its last use here.
            var t = NewTile(s);
            nodes.Add(new Node(NodeOp.LoadBool, null, ext, ext, t, -1));
            where[s] = t;
            return t;
        }
        // A splat operand of an operator that needs a tile (unary, select, or both operands splats).
        Loc Materialize(Loc l)
        {
            if (l.Kind != Kind.Splat) return l;
            int key = -1 - nodes.Count;
            var t = NewTile(key);
            nodes.Add(new Node(NodeOp.Fill, null, l, l, t, l.Index));
            tileOf.Remove(key);
            pendingFree.Add(t.Index);   // free again once this equation's node has been added
            return t;
        }
        Loc Output(int slot, DType type)
        {
            writes.Add(slot); writeTypes.Add(type);
            return new Loc(Kind.Output, slot);
        }
        for (int i = start; i < end; i++)
        {
            var e = eqns[i];
            int outSlot = slotOf[e.Outputs[0]];
            bool materialize = isOutput[outSlot] || lastUseEqn[outSlot] >= end;
            var ins = e.Inputs.Select(Read).ToArray();
            if (e.Primitive == Prims.Select) { ins[1] = Materialize(ins[1]); ins[2] = Materialize(ins[2]); }
            // Inputs whose last use is this equation free their tiles after it reads them; the
            // output may then take one of them (operators read element i before writing it).
            foreach (var v in e.Inputs)
            {
                int s = slotOf[v];
                if (lastUseEqn[s] == i && tileOf.Remove(s, out int tile)) freeTiles.Push(tile);
            }
            bool isSplat = e.Primitive == Prims.BroadcastInDim && ins[0].Kind == Kind.External && e.Inputs[0].Aval.Size == 1
                || e.Primitive == Prims.ConvertElementType && ins[0].Kind == Kind.Splat;
            if (isSplat && !materialize)
            {
                // No node: readers take the scalar directly.
                if (ins[0].Kind == Kind.Splat) where[outSlot] = ins[0];
                else { where[outSlot] = new Loc(Kind.Splat, splatSlots.Count); splatSlots.Add(ins[0].Index); }
                continue;
            }
            bool isBool = e.Outputs[0].Aval.DType == DType.Bool;
            // Bool results are computed as 0/1 floats in a tile, then stored as bytes if needed later.
            Loc dst = materialize && !isBool ? Output(outSlot, DType.Float32) : NewTile(outSlot);
            if (isSplat)
            {
                int k = ins[0].Kind == Kind.Splat ? ins[0].Index : splatSlots.Count;
                if (ins[0].Kind != Kind.Splat) splatSlots.Add(ins[0].Index);
                nodes.Add(new Node(NodeOp.Fill, null, dst, dst, dst, k));
            }
            else if (e.Primitive == Prims.BroadcastInDim && ins[0].Kind == Kind.External)
                nodes.Add(new Node(NodeOp.Row, null, ins[0], ins[0], dst, -1, default, e.Inputs[0].Aval.Size));
            else if (e.Primitive == Prims.BroadcastInDim || e.Primitive == Prims.ConvertElementType)
            {
                // A scalar computed inside the chain (size-1 chains), or a float32 -> float32 conversion: a copy.
                var a = Materialize(ins[0]);
                nodes.Add(new Node(NodeOp.Apply, Copy, a, a, dst, -1));
            }
            else if (e.Primitive == Prims.Select) nodes.Add(new Node(NodeOp.Select, null, ins[0], ins[1], dst, -1, ins[2]));
            else if (Op(e)! is { Arity: ElementwiseArity.Unary or ElementwiseArity.Predicate } u)
            {
                var a = Materialize(ins[0]);
                nodes.Add(new Node(NodeOp.Apply, u.Float32!.Fused, a, a, dst, -1));
            }
            else
            {
                var a = ins[0]; var b = ins[1];
                var op = Op(e)!.Float32!.Fused;
                if (a.Kind == Kind.Splat && b.Kind == Kind.Splat) a = Materialize(a);
                if (a.Kind == Kind.Splat) nodes.Add(new Node(NodeOp.Apply, op.WithSplat(0), b, b, dst, a.Index));
                else if (b.Kind == Kind.Splat) nodes.Add(new Node(NodeOp.Apply, op.WithSplat(1), a, a, dst, b.Index));
                else nodes.Add(new Node(NodeOp.Apply, op, a, b, dst, -1));
            }
            if (materialize && isBool) nodes.Add(new Node(NodeOp.StoreBool, null, dst, dst, Output(outSlot, DType.Bool), -1));
            where[outSlot] = dst;
            foreach (var t in pendingFree) freeTiles.Push(t);
            pendingFree.Clear();
        }
        Superinstructions(nodes);
        var prims = Enumerable.Range(start, end - start).Select(i => eqns[i].Primitive).ToArray();
        var step = new FusedStep(nodes.ToArray(), prims, splatSlots.ToArray(), reads.ToArray(), writes.ToArray(), writeTypes.ToArray(),
            Fusible(eqns[start]), scratch);
        // In-place updates: an output may take over the buffer of an input of the same type that
        // dies in this chain, once no later node reads that input (elementwise nodes read element
        // i before writing it). Optimizer updates then write into the state they read, whose
        // cache lines are already present, instead of a second cold array.
        var slotType = new Dictionary<int, DType>();
        foreach (var e in eqns.AsSpan(start, end - start)) foreach (var v in e.Inputs) slotType[slotOf[v]] = v.Aval.DType;
        var lastRead = new Dictionary<int, int>();
        var writer = new Dictionary<int, int>();
        for (int k = 0; k < nodes.Count; k++)
        {
            var nd = nodes[k];
            foreach (var l in new[] { nd.A, nd.B, nd.C })
                if (l.Kind == Kind.External && nd.Op != NodeOp.Row) lastRead[l.Index] = k;
            if (nd.Op == NodeOp.Row) lastRead[nd.A.Index] = int.MaxValue;   // a row is not elementwise
            if (nd.Dst.Kind == Kind.Output) writer[nd.Dst.Index] = k;
        }
        step._aliases = writes.Select((w, i) => lastRead
            .Where(r => slotType.TryGetValue(r.Key, out var t) && t == writeTypes[i] && !isOutput[r.Key]
                && lastUseEqn[r.Key] < end && r.Value <= writer[w]
                && (noAlias == null || Array.IndexOf(noAlias, r.Key) < 0))
            // Program arguments first: a donated state buffer then carries the new state, and the
            // intermediate (a gradient) is released and recycled for the same value next call.
            .Select(r => r.Key).OrderBy(k => k < nArgs ? 0 : 1).ToArray()).ToArray();
        // Nodes address buffers through a small local table (rebuilt per run) instead of the
        // program's whole slot range.
        step._localSlots = reads.Concat(writes).Distinct().ToArray();
        var local = new Dictionary<int, int>();
        for (int i = 0; i < step._localSlots.Length; i++) local[step._localSlots[i]] = i;
        Loc Map(Loc l) => l.Kind is Kind.External or Kind.Output ? l with { Index = local[l.Index] } : l;
        for (int k = 0; k < step._nodes.Length; k++)
        {
            var nd = step._nodes[k];
            step._nodes[k] = nd with { A = Map(nd.A), B = Map(nd.B), C = Map(nd.C), Dst = Map(nd.Dst) };
        }
        step._streams = step._nodes.Where(nd => nd.Op is NodeOp.Apply or NodeOp.Select)
            .SelectMany(nd => new[] { nd.A, nd.B, nd.C }).Where(l => l.Kind == Kind.External).Select(l => l.Index).Distinct().ToArray();
        step._loop = FusedChainCodegen.TryGet(step._nodes, Isa.Vector512);
        step._loop256 = FusedChainCodegen.TryGet(step._nodes, Isa.Vector256);
        return step;
    }

    // An operator with a splat operand whose scratch tile is read by one later node only (a
    // tile-by-tile binary operator) becomes one superinstruction with it, run where that reader
    // ran: one pass over the tile instead of two. The nodes in between must not read the tile nor
    // overwrite the operator's operand.
    static void Superinstructions(List<Node> nodes)
    {
        for (int k = 0; k < nodes.Count; k++)
        {
            var inner = nodes[k];
            var t = inner.Dst;
            if (inner.Op != NodeOp.Apply || inner.SplatIndex < 0 || t.Kind != Kind.Scratch) continue;
            int j = k + 1;
            while (j < nodes.Count && !ReadsTile(nodes[j], t) && nodes[j].Dst != inner.A && nodes[j].Dst != t) j++;
            if (j == nodes.Count) continue;
            var outer = nodes[j];
            if (outer.Op != NodeOp.Apply || outer.SplatIndex >= 0 || (outer.A == t) == (outer.B == t)
                || outer.Dst != t && ReadLater(nodes, j + 1, t))
                continue;
            bool innerFirst = outer.A == t;
            if (inner.Instr!.ThenBinary(outer.Instr!, innerFirst) is not { } fused) continue;
            nodes[j] = new Node(NodeOp.Apply, fused, inner.A, innerFirst ? outer.B : outer.A, outer.Dst, inner.SplatIndex);
            nodes.RemoveAt(k);
            k--;
        }
    }

    static bool ReadsTile(Node nd, Loc t)
        => nd.Op is not (NodeOp.Fill or NodeOp.LoadBool or NodeOp.Row) && (nd.A == t || nd.B == t || nd.C == t);

    // Whether a node from `from` on reads tile t before one overwrites it. (A reader that writes
    // its result over t in place leaves no later reader of the old value: callers skip the check.)
    static bool ReadLater(List<Node> nodes, int from, Loc t)
    {
        for (int j = from; j < nodes.Count; j++)
        {
            if (ReadsTile(nodes[j], t)) return true;
            if (nodes[j].Dst == t) return false;
        }
        return false;
    }

    [ThreadStatic] static float[]? _tiles;

    /// <summary>The element count of the chain.</summary>
    internal long Size => _n;

    public override void Run(CpuExecutable exe, CpuExecutable.Frame f)
    {
        var run = Begin(exe, f, ref f.StepState[Index]);
        CpuParallel.For(_n, CpuParallel.ElementwiseGrain, run.Body);
        End(run);
        GC.KeepAlive(f);
    }

    /// <summary>
    /// Takes the chain's output buffers and resolves its arrays and splat values for a run over any ranges of
    /// elements (<see cref="RunState.Range"/>); <paramref name="state"/> keeps the run's state between calls. The
    /// values the chain reads must be final; <see cref="End"/> follows.
    /// </summary>
    internal RunState Begin(CpuExecutable exe, CpuExecutable.Frame f, ref object? state)
    {
        foreach (var prim in _prims) EvalTrace.NotifyEvaluated(prim);
        bool committed = AnyCommitted(f, _reads);
        for (int i = 0; i < _writes.Length; i++)
        {
            CpuBuffer? reuse = null;
            foreach (int s in _aliases[i])
                if (f.Owned[s] && f.Bufs[s] is { } b && b.DType == _writeTypes[i] && b.Length == _n)
                {
                    reuse = b;
                    f.Owned[s] = false;   // the output owns it now; the input's last use is in this step
                    break;
                }
            f.Bufs[_writes[i]] = reuse ?? exe.NewBuffer(f, _writes[i], _writeTypes[i], _n);
            f.Owned[_writes[i]] = true;
            f.Committed[_writes[i]] = committed;
        }
        // Arrays of external and output locations, and splat values, resolved once per run into
        // the frame's state for this step (reused by later calls: no allocation per run).
        var run = state as RunState
            ?? (RunState)(state = new RunState(_nodes, _streams, _localSlots.Length, _splatSlots.Length, _scratch,
                _loop, _loop256));
        var arrays = run.Arrays;
        for (int i = 0; i < _localSlots.Length; i++) arrays[i] = f.Bufs[_localSlots[i]]!.Data;
        var splat = run.Splat;
        for (int k = 0; k < splat.Length; k++) splat[k] = MemoryMarshal.Cast<byte, float>(f.Bufs[_splatSlots[k]]!.Data.AsSpan())[0];
        run.Isa = Config.Isa;
        return run;
    }

    /// <summary>Ends a run that <see cref="Begin"/> started.</summary>
    internal static void End(RunState run) => Array.Clear(run.Arrays); // the frame keeps no arrays alive between calls

    /// <summary>One frame's inputs to <see cref="RunRange"/>, with the chunk delegate bound once.</summary>
    internal sealed class RunState
    {
        public readonly Node[] Nodes;
        public readonly int[] Streams;
        public readonly byte[]?[] Arrays;
        public readonly float[] Splat;
        public readonly int ScratchTiles;
        public Isa Isa;
        public readonly Action<long, long> Body;
        readonly FusedChainLoop? _loop, _loop256;

        public RunState(Node[] nodes, int[] streams, int arrays, int splats, int scratchTiles, FusedChainLoop? loop,
            FusedChainLoop? loop256)
        {
            (_loop, _loop256) = (loop, loop256);
            Nodes = nodes;
            Streams = streams;
            Arrays = new byte[]?[arrays];
            Splat = new float[splats];
            ScratchTiles = scratchTiles;
            Body = Range;
        }

        /// <summary>Runs the chain on elements [<paramref name="s"/>, <paramref name="e"/>) (from any thread).</summary>
        public void Range(long s, long e)
        {
            var loop = Isa == Isa.Vector512 ? _loop : Isa == Isa.Vector256 ? _loop256 : null;
            if (loop == null)
            {
                RunRange(Nodes, Streams, Arrays, Splat, Isa, ScratchTiles, s, e);
                return;
            }
            // Whole vectors in the generated loop; the tail (where the interpreter's tiles run scalar code too) here.
            int w = FusedChainCodegen.Width(Isa);
            long m = s + (e - s) / w * w;
            if (m > s)
            {
                loop(Arrays, Splat, s, m);
                FusedChainCodegen.CountRun();
            }
            if (m < e) RunRange(Nodes, Streams, Arrays, Splat, Isa, ScratchTiles, m, e);
        }

        /// <summary>Runs the chain on <paramref name="rows"/> ranges of <paramref name="length"/> elements from
        /// <paramref name="s"/>, <paramref name="stride"/> apart (a block of rows of a row-major matrix).</summary>
        public void Rows(long s, int length, int rows, long stride)
        {
            if (_loop == null && _loop256 == null)
                RunRange(Nodes, Streams, Arrays, Splat, Isa, ScratchTiles, s, s + length, rows, stride);
            else for (int r = 0; r < rows; r++) Range(s + r * stride, s + r * stride + length);
        }
    }

    // Elements [s, e), then `rows - 1` more ranges, each `stride` further on (rows of a block of a matrix).
    static void RunRange(Node[] nodes, int[] streams, byte[]?[] arrays, float[] splat, Isa isa, int scratchTiles,
        long s, long e, int rows = 1, long stride = 0)
    {
        int ahead = TilePrefetch.Distance * Tile;
        Span<nint> bases = stackalloc nint[16];
        bases = bases[..Math.Min(16, streams.Length)];
        int need = Math.Max(1, scratchTiles) * Tile;
        var tiles = _tiles;
        if (tiles == null || tiles.Length < need) _tiles = tiles = new float[need];
        ref float scratch = ref MemoryMarshal.GetArrayDataReference(tiles);
        for (int rowIndex = 0; rowIndex < rows; rowIndex++, s += stride, e += stride)
        for (long t0 = s; t0 < e; t0 += Tile)
        {
            int len = (int)Math.Min(Tile, e - t0);
            int lines = ahead > 0 ? TilePrefetch.Aim(bases, arrays, streams, t0 + ahead, e, Tile) : 0;
            for (int k = 0; k < nodes.Length; k++)
            {
                var node = nodes[k];
                if (lines > 0) TilePrefetch.Issue(bases, lines, k, nodes.Length);
                switch (node.Op)
                {
                    case NodeOp.Apply:
                        node.Instr!.Run(isa, ref At(node.A, arrays, ref scratch, t0), ref At(node.B, arrays, ref scratch, t0),
                            ref At(node.Dst, arrays, ref scratch, t0), len, node.SplatIndex >= 0 ? splat[node.SplatIndex] : 0f);
                        break;
                    case NodeOp.Fill:
                        MemoryMarshal.CreateSpan(ref At(node.Dst, arrays, ref scratch, t0), len).Fill(splat[node.SplatIndex]);
                        break;
                    case NodeOp.Select:
                        SelectRange(isa, ref At(node.A, arrays, ref scratch, t0), ref At(node.B, arrays, ref scratch, t0),
                            ref At(node.C, arrays, ref scratch, t0), ref At(node.Dst, arrays, ref scratch, t0), len);
                        break;
                    case NodeOp.LoadBool:
                        LoadBool(isa, ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(arrays[node.A.Index]!), (nint)t0), ref At(node.Dst, arrays, ref scratch, t0), len);
                        break;
                    case NodeOp.StoreBool:
                        StoreBool(isa, ref At(node.A, arrays, ref scratch, t0), ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(arrays[node.Dst.Index]!), (nint)t0), len);
                        break;
                    case NodeOp.Row:
                    {
                        var row = MemoryMarshal.Cast<byte, float>(arrays[node.A.Index].AsSpan());
                        var dst = MemoryMarshal.CreateSpan(ref At(node.Dst, arrays, ref scratch, t0), len);
                        int m = (int)node.Period, j = 0, r = (int)(t0 % m);
                        while (j < len)
                        {
                            int c = Math.Min(len - j, m - r);
                            row.Slice(r, c).CopyTo(dst.Slice(j, c));
                            j += c; r = 0;
                        }
                        break;
                    }
                }
            }
        }
    }

    // Bool bytes -> 0/1 floats without branches (random masks would mispredict every other element).
    static void LoadBool(Isa isa, ref byte src, ref float dst, int n)
    {
        int j = 0;
        if (isa >= Isa.Vector256 && Avx2.IsSupported)
        {
            var one = Vector256.Create(1);
            for (; j <= n - 8; j += 8)
            {
                var w = Avx2.ConvertToVector256Int32(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, j))).AsByte());
                Avx.ConvertToVector256Single(Vector256.Min(w, one)).StoreUnsafe(ref dst, (nuint)j);
            }
        }
        for (; j < n; j++) Unsafe.Add(ref dst, j) = Math.Min(Unsafe.Add(ref src, j), (byte)1);
    }

    // 0/1 floats -> bool bytes.
    static void StoreBool(Isa isa, ref float src, ref byte dst, int n)
    {
        int j = 0;
        if (isa == Isa.Vector512 && Avx512F.IsSupported)
            for (; j <= n - 16; j += 16)
            {
                var ints = Avx512F.ConvertToVector512Int32WithTruncation(Vector512.Min(Vector512.Abs(Vector512.LoadUnsafe(ref src, (nuint)j)), Vector512<float>.One));
                Avx512F.ConvertToVector128Byte(ints).StoreUnsafe(ref dst, (nuint)j);
            }
        for (; j < n; j++)
        {
            bool b = Unsafe.Add(ref src, j) != 0;
            Unsafe.Add(ref dst, j) = Unsafe.As<bool, byte>(ref b);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ref float At(Loc l, byte[]?[] arrays, ref float scratch, long t0)
        => ref l.Kind == Kind.Scratch
            ? ref Unsafe.Add(ref scratch, l.Index * Tile)
            : ref Unsafe.Add(ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(arrays[l.Index]!)), (nint)t0);
}
