using Stax.Tracing;

namespace Stax.Backends.Cpu;

/// <summary>
/// A staged program compiled for the CPU backend. Everything that eager evaluation redoes per
/// equation (type rules, trace lookup, kernel lookup, a dictionary environment) is resolved once:
/// the program becomes a list of steps over a slot-indexed environment. Each slot's buffer goes
/// back to the pool right after its last use; donated arguments' buffers do too, so the outputs
/// reuse them. Chains of float32 elementwise equations run as one fused pass (<see cref="FusedStep"/>).
/// Equations without a kernel (jit, custom_jvp_call, ...) are bound as in the interpreter.
/// </summary>
internal sealed class CpuExecutable : IExecutable
{
    readonly CpuBackend _backend;
    readonly Jaxpr _program;
    readonly Step[] _steps;
    readonly int[][] _freeAfter;
    readonly int _slots;
    readonly int[] _outSlots;
    readonly AbstractValue[] _slotTypes;
    // Per slot: whether its buffer object may be recycled from one call to the next (only values
    // that kernels write and read; a bound equation's operands become Tensors that could outlive it).
    readonly bool[] _recyclable;

    CpuExecutable(CpuBackend backend, Jaxpr program, Step[] steps, int[][] freeAfter, int slots, int[] outSlots,
        AbstractValue[] slotTypes, bool[] recyclable)
    {
        _recyclable = recyclable;
        _backend = backend;
        _program = program;
        _steps = steps;
        _freeAfter = freeAfter;
        _slots = slots;
        _outSlots = outSlots;
        _slotTypes = slotTypes;
    }

    /// <summary>Number of steps (fused groups count once); tests use it to see fusion happen.</summary>
    internal int StepCount => _steps.Length;
    /// <summary>The steps' names (primitive and input shapes, or a fused group's summary); tests use it.</summary>
    internal IEnumerable<string> StepNames => _steps.Select(s => s.Name);
    /// <summary>Number of fused elementwise groups.</summary>
    internal int FusedGroups => _steps.Count(s => s is FusedStep);

    internal static IExecutable Create(CpuBackend backend, Jaxpr program)
    {
        if (program.ConstVars.Length > 0) return new InterpretedExecutable(program);
        var slotOf = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        var types = new List<AbstractValue>();
        int Slot(Var v)
        {
            if (!slotOf.TryGetValue(v, out int s)) { s = slotOf[v] = types.Count; types.Add(v.Aval); }
            return s;
        }
        foreach (var v in program.InVars) Slot(v);
        var (eqns, outVars) = CpuSchedule.Order(program);
        foreach (var e in eqns)
        {
            // stop_gradient is the identity when evaluating: its output shares its operand's slot
            // (no step, no copy, no Tensor for a bound call).
            if (IsIdentity(e)) { slotOf[e.Outputs[0]] = slotOf[e.Inputs[0]]; continue; }
            foreach (var v in e.Outputs) Slot(v);
        }
        int nSlots = types.Count;
        var outSlots = outVars.Select(v => slotOf.TryGetValue(v, out int s)
            ? s
            : throw new InvalidOperationException("Internal error: a program output is never defined")).ToArray();
        var isOutput = new bool[nSlots];
        foreach (var s in outSlots) isOutput[s] = true;

        // Uses per slot, to know which equation outputs are used only inside a fusible chain.
        var useCount = new int[nSlots];
        var lastUseEqn = new int[nSlots];
        Array.Fill(lastUseEqn, -1);
        for (int i = 0; i < eqns.Length; i++)
            foreach (var v in eqns[i].Inputs) { int s = slotOf[v]; useCount[s]++; lastUseEqn[s] = i; }

        var steps = new List<Step>();
        var boundWrite = new bool[nSlots]; // slots a bound equation writes: its Tensors may be held elsewhere
        int k = 0;
        while (k < eqns.Length)
        {
            if (IsIdentity(eqns[k])) { k++; continue; }
            var folded = CpuDotEpilogue.TryBuild(backend, eqns, k, slotOf, isOutput, lastUseEqn, program.InVars.Length,
                out int after);
            if (folded != null)
            {
                steps.Add(folded);
                k = after;
                continue;
            }
            int end = FusedStep.ChainEnd(eqns, k);
            if (end - k >= 2)
            {
                steps.Add(FusedStep.Build(backend, eqns, k, end, slotOf, isOutput, lastUseEqn, program.InVars.Length));
                k = end;
                continue;
            }
            var e = eqns[k++];
            var ins = e.Inputs.Select(v => slotOf[v]).ToArray();
            var outs = e.Outputs.Select(v => slotOf[v]).ToArray();
            if (e.Primitive.Impl == null && CpuBackend.TryGetKernel(e.Primitive, out var kernel))
                steps.Add(new KernelStep(e.Primitive, e.Params, kernel, ins, outs,
                    e.Inputs.Select(v => v.Aval).ToArray(), e.Outputs.Select(v => v.Aval).ToArray()));
            else
            {
                // Operands whose value dies here (an intermediate that kernels wrote and only this equation reads)
                // may be overwritten by a donating impl.
                var dying = e.Primitive.DonatingImpl == null ? null
                    : ins.Select(s => s >= program.InVars.Length && !isOutput[s] && useCount[s] == 1 && !boundWrite[s]).ToArray();
                steps.Add(new BindStep(e, ins, outs, dying != null && dying.Any(d => d) ? dying : null));
                foreach (var s in outs) boundWrite[s] = true;
            }
        }

        // Last use per step: a slot is freed right after the last step that reads it (or right
        // after the step that defines it when nothing reads it); program outputs never.
        var lastStep = new int[nSlots];
        Array.Fill(lastStep, -1);
        for (int i = 0; i < steps.Count; i++)
        {
            foreach (var s in steps[i].Reads) lastStep[s] = i;
            foreach (var s in steps[i].Writes) if (lastStep[s] < i) lastStep[s] = i;
        }
        var free = new List<int>[steps.Count];
        for (int i = 0; i < free.Length; i++) free[i] = new List<int>();
        for (int s = 0; s < nSlots; s++)
            if (!isOutput[s] && lastStep[s] >= 0) free[lastStep[s]].Add(s);
        for (int i = 0; i < steps.Count; i++) steps[i].Index = i;
        var recyclable = new bool[nSlots];
        Array.Fill(recyclable, true);
        foreach (var st in steps)
            if (st is BindStep)
            {
                foreach (var s in st.Reads) recyclable[s] = false;
                foreach (var s in st.Writes) recyclable[s] = false;
            }
        return new CpuExecutable(backend, program, steps.ToArray(), free.Select(f => f.ToArray()).ToArray(), nSlots, outSlots,
            types.ToArray(), recyclable);
    }

    static bool IsIdentity(Eqn e)
        => e.Primitive == Prims.StopGradient && e.Inputs.Length == 1 && e.Outputs.Length == 1
            && e.Inputs[0].Aval.Equals(e.Outputs[0].Aval);

    /// <inheritdoc/>
    public Tensor[] Run(Tensor[] args) => Run(args, null);

    public Tensor[] Run(Tensor[] args, bool[]? donated)
    {
        var results = new Tensor[_outSlots.Length];
        RunInto(args, donated, results, null, null);
        return results;
    }

    /// <summary>
    /// Runs like <see cref="Run(Tensor[], bool[])"/>, writing result j into <paramref name="results"/>[j].
    /// <paramref name="spare"/>[j], when not null, is a dead Tensor object of result j's type that
    /// nothing outside the library can reach: it becomes result j when result j is a new tensor
    /// (spare[j] is then set to null). <paramref name="owned"/>[j] says that results[j] is a new
    /// tensor of this call whose buffer no argument, other result or bound value shares.
    /// </summary>
    internal void RunInto(Tensor[] args, bool[]? donated, Tensor[] results, Tensor?[]? spare, bool[]? owned)
    {
        if (args.Length != _program.InVars.Length)
            throw new ArgumentException($"program expects {_program.InVars.Length} inputs, got {args.Length}");
        // A frame from the previous call is reused (one spare; concurrent calls make their own).
        var f = Interlocked.Exchange(ref _spare, null) ?? new Frame(_slots, _steps.Length);
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (a.Buffer is CpuBuffer cb && ReferenceEquals(cb.Backend, _backend))
            {
                f.Tensors[i] = a;
                f.Bufs[i] = cb;
            }
            else
            {
                var t = new Tensor(_backend.Upload(a.ToBytes(), a.DType), a.Aval) { Committed = false };
                f.Tensors[i] = t;
                f.Bufs[i] = (CpuBuffer)t.Buffer!;
                f.Owned[i] = true; // our own copy
            }
            f.Committed[i] = a.Committed;
        }
        // A donated argument's buffer is ours unless another argument shares it.
        if (donated != null)
            for (int i = 0; i < args.Length && i < donated.Length; i++)
            {
                if (!donated[i] || f.Owned[i]) continue;
                bool shared = false;
                for (int j = 0; j < args.Length && !shared; j++)
                    shared = j != i && ReferenceEquals(f.Bufs[j], f.Bufs[i]);
                f.Owned[i] = !shared;
            }
        // On an exception, buffers not yet released are left to their finalizers.
        var profile = Profile;
        for (int i = 0; i < _steps.Length; i++)
        {
            long t0 = profile != null ? profile.Now() : 0;
            _steps[i].Run(this, f);
            if (profile != null)
            {
                long d = profile.Now() - t0; // read before the step's name is formatted
                profile.Add(_steps[i].Name, d);
            }
            foreach (var s in _freeAfter[i])
            {
                if (f.Owned[s] && f.Bufs[s] is { } dead)
                {
                    dead.Release();
                    // A buffer object that is not its slot's own (a donated argument's, or one an
                    // in-place update passed along) can carry a later value (next call's, too).
                    if (_recyclable[s] && !ReferenceEquals(f.Recycled[s], dead) && !dead.Listed && f.FreeArgs.Count < MaxFreeArgs)
                    {
                        dead.Listed = true;
                        f.FreeArgs.Add(dead);
                    }
                }
                f.Bufs[s] = null;
                f.Tensors[s] = null;
            }
        }
        var sharedOut = _sharedOut ??= SharedOutputs();
        // Results that are existing tensors (bound values, arguments returned as they are) first: a
        // spare that is one of them must not take another value.
        for (int j = 0; j < _outSlots.Length; j++)
        {
            int s = _outSlots[j];
            if (!IsExisting(f, args, s, out var t)) continue;
            results[j] = t;
            if (owned != null) owned[j] = false;
            if (spare != null)
                for (int k = 0; k < spare.Length; k++)
                    if (ReferenceEquals(spare[k], t)) spare[k] = null;
        }
        for (int j = 0; j < _outSlots.Length; j++)
        {
            int s = _outSlots[j];
            if (IsExisting(f, args, s, out var existing))
            {
                // From the first pass, or a slot that an earlier result of this pass made a tensor for.
                results[j] = existing;
                if (owned != null) owned[j] = false;
                continue;
            }
            // A new tensor (a donated argument returned as an output takes over its buffer), or the
            // caller's dead Tensor object for this result.
            var buf = f.Bufs[s]!;
            Tensor r;
            if (spare?[j] is { } dead && dead.Rebind(buf, _slotTypes[s], f.Committed[s])) { r = dead; spare[j] = null; }
            else r = new Tensor(buf, _slotTypes[s]) { Committed = f.Committed[s] };
            results[j] = f.Tensors[s] = r;
            if (owned != null) owned[j] = !sharedOut[j];
        }
        f.Clear();
        _spare = f;
    }

    // Whether slot s's result is a tensor that exists already (not a donated argument's, which a
    // new tensor takes over).
    static bool IsExisting(Frame f, Tensor[] args, int s, out Tensor t)
    {
        t = f.Tensors[s]!;
        return t is not null && !(s < args.Length && f.Owned[s] && ReferenceEquals(t, args[s]));
    }

    // Per result, whether another result reads the same slot (then one tensor is two results).
    bool[] SharedOutputs()
    {
        var shared = new bool[_outSlots.Length];
        for (int j = 0; j < shared.Length; j++)
            shared[j] = Array.IndexOf(_outSlots, _outSlots[j]) != j || Array.LastIndexOf(_outSlots, _outSlots[j]) != j;
        return shared;
    }

    bool[]? _sharedOut;

    /// <summary>
    /// A buffer for a value of <paramref name="slot"/>: the buffer object this frame used for the
    /// slot last time when it has been released since (an intermediate after its last use, or a
    /// result that came back donated), with a pooled array; otherwise a new one. A training step
    /// then allocates no buffer objects.
    /// </summary>
    internal CpuBuffer NewBuffer(Frame f, int slot, DType dtype, long length)
    {
        if (!_recyclable[slot]) return _backend.Allocate(dtype, length);
        var w = f.Recycled[slot];
        if (w != null && w.IsReleased && w.DType == dtype && w.Length == length && w.TryReacquire()) return w;
        // A released buffer object that belongs to no slot (a donated argument's: its Tensor is dead),
        // from this call or an earlier one.
        var free = f.FreeArgs;
        for (int i = free.Count - 1; i >= 0; i--)
        {
            var c = free[i];
            if (c.DType != dtype || c.Length != length) continue;
            free[i] = free[^1];
            free.RemoveAt(free.Count - 1);
            c.Listed = false;
            if (!c.TryReacquire()) continue; // claimed again elsewhere since: a stale entry
            return f.Recycled[slot] = c;
        }
        return f.Recycled[slot] = _backend.Allocate(dtype, length);
    }

    internal Tensor TensorOf(Frame f, int slot)
        => f.Tensors[slot] ??= new Tensor(f.Bufs[slot]!, _slotTypes[slot]) { Committed = f.Committed[slot] };

    internal CpuBackend Backend => _backend;

    Frame? _spare;
    const int MaxFreeArgs = 256;

    internal sealed class Frame(int slots, int steps)
    {
        /// <summary>Per step, what it keeps between calls to run without allocating (argument arrays, bound delegates).</summary>
        public readonly object?[] StepState = new object?[steps];
        public readonly CpuBuffer?[] Bufs = new CpuBuffer?[slots];
        public readonly Tensor?[] Tensors = new Tensor?[slots];
        public readonly bool[] Owned = new bool[slots];
        public readonly bool[] Committed = new bool[slots];
        /// <summary>Released buffer objects that belong to no slot (donated arguments'), for values of the same size
        /// (kept between calls).</summary>
        public readonly List<CpuBuffer> FreeArgs = new(MaxFreeArgs);
        /// <summary>Per slot, the buffer object last allocated for it
        /// (kept between calls, see <see cref="NewBuffer"/>).</summary>
        public readonly CpuBuffer?[] Recycled = new CpuBuffer?[slots];

        public void Clear()
        {
            Array.Clear(Bufs);
            Array.Clear(Tensors);
            Array.Clear(Owned);
            Array.Clear(Committed);
        }
    }

    /// <summary>When set, every step's wall time is added to it under the step's name (benchmark diagnostics).</summary>
    internal static StepProfile? Profile;

    internal abstract class Step
    {
        public virtual string Name => GetType().Name;
        /// <summary>Position in the program (indexes <see cref="Frame.StepState"/>).</summary>
        public int Index;
        public abstract int[] Reads { get; }
        public abstract int[] Writes { get; }
        public abstract void Run(CpuExecutable exe, Frame f);

        protected static bool AnyCommitted(Frame f, int[] ins)
        {
            foreach (var s in ins) if (f.Committed[s]) return true;
            return false;
        }
    }

    /// <summary>One primitive with a CPU kernel: types and parameters were fixed at compile time.</summary>
    sealed class KernelStep(Primitive primitive, Params parameters, CpuKernel kernel, int[] ins, int[] outs,
        AbstractValue[] inTypes, AbstractValue[] outTypes) : Step
    {
        public override int[] Reads => ins;
        public override int[] Writes => outs;
        public override string Name => $"{primitive.Name} {string.Join(" ", inTypes.Select(t => t.Shape))}";

        public override void Run(CpuExecutable exe, Frame f)
        {
            EvalTrace.NotifyEvaluated(primitive);
            // The operand arrays live in the frame (reused by later calls); kernels do not keep them.
            var scratch = f.StepState[Index] as Operands
                ?? (Operands)(f.StepState[Index] = new Operands(ins.Length, outs.Length));
            var ib = scratch.Ins;
            for (int i = 0; i < ins.Length; i++) ib[i] = f.Bufs[ins[i]]!;
            var ob = scratch.Outs;
            for (int i = 0; i < outs.Length; i++) ob[i] = exe.NewBuffer(f, outs[i], outTypes[i].DType, outTypes[i].Size);
            kernel(parameters, ib, ob, inTypes, outTypes);
            bool committed = AnyCommitted(f, ins);
            for (int i = 0; i < outs.Length; i++)
            {
                f.Bufs[outs[i]] = ob[i];
                f.Owned[outs[i]] = true;
                f.Committed[outs[i]] = committed;
            }
            GC.KeepAlive(ib);
            // Dropped so the frame does not keep buffers alive between calls.
            Array.Clear(ib);
            Array.Clear(ob);
        }

        sealed class Operands(int ins, int outs)
        {
            public readonly CpuBuffer[] Ins = new CpuBuffer[ins];
            public readonly CpuBuffer[] Outs = new CpuBuffer[outs];
        }
    }

    /// <summary>An equation without a kernel of its own (jit, custom_jvp_call, identities):
    /// bound like the interpreter does.</summary>
    /// <remarks><paramref name="dying"/> marks the operands that die at this equation (see <see cref="Create"/>):
    /// when the primitive has a donating impl, those the frame owns are passed to it as dead, and a result that
    /// is one of them takes over its buffer.</remarks>
    sealed class BindStep(Eqn eqn, int[] ins, int[] outs, bool[]? dying = null) : Step
    {
        public override int[] Reads => ins;
        public override int[] Writes => outs;
        public override string Name => $"{eqn.Primitive.Name} (bound)";

        public override void Run(CpuExecutable exe, Frame f)
        {
            var args = new Tensor[ins.Length];
            for (int i = 0; i < ins.Length; i++) args[i] = exe.TensorOf(f, ins[i]);
            // A donating impl runs only under plain evaluation (it bypasses the trace that Bind would find).
            var dead = dying == null || TraceState.FindTop(args) is not EvalTrace ? null : Dead(f, args);
            Tensor[] results;
            using (eqn.Scope != null ? NameScope.Push(eqn.Scope, replace: true) : null)
            {
                if (dead != null)
                {
                    EvalTrace.NotifyEvaluated(eqn.Primitive);
                    results = eqn.Primitive.DonatingImpl!(args, dead, eqn.Params);
                }
                else results = eqn.Primitive.Bind(eqn.Params, args);
            }
            for (int j = 0; j < outs.Length; j++)
            {
                var t = results[j];
                var buf = t.Buffer as CpuBuffer;
                if (buf == null || !ReferenceEquals(buf.Backend, exe._backend))
                {
                    t = new Tensor(exe._backend.Upload(t.ToBytes(), t.DType), t.Aval) { Committed = t.Committed };
                    buf = (CpuBuffer)t.Buffer!;
                }
                // Results that alias an input (identity rules) or another result are nobody's to free,
                // except a dead operand's buffer that a donating impl wrote over: that result owns it.
                bool alias = false;
                for (int i = 0; i < ins.Length; i++)
                {
                    int s = ins[i];
                    if (!ReferenceEquals(f.Bufs[s], buf)) continue;
                    alias |= dead == null || !dead[i] || !f.Owned[s];
                    f.Owned[s] = false;
                }
                for (int i = 0; i < j; i++)
                    if (ReferenceEquals(f.Bufs[outs[i]], buf)) { f.Owned[outs[i]] = false; alias = true; }
                f.Tensors[outs[j]] = t;
                f.Bufs[outs[j]] = buf;
                f.Owned[outs[j]] = !alias;
                f.Committed[outs[j]] = t.Committed;
            }
        }

        // Per operand, whether it dies here and its buffer is the frame's alone (no other operand shares it);
        // null when none does. The array lives in the frame's state for this step.
        bool[]? Dead(Frame f, Tensor[] args)
        {
            var dead = f.StepState[Index] as bool[] ?? (bool[])(f.StepState[Index] = new bool[ins.Length]);
            bool any = false;
            for (int i = 0; i < ins.Length; i++)
            {
                dead[i] = dying![i] && f.Owned[ins[i]] && args[i].Buffer is CpuBuffer;
                for (int j = 0; j < ins.Length && dead[i]; j++)
                    dead[i] = j == i || !ReferenceEquals(f.Bufs[ins[j]], f.Bufs[ins[i]]);
                any |= dead[i];
            }
            return any ? dead : null;
        }
    }
}
