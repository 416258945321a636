using Stax.Tracing;

namespace Stax.Vulkan;

/// <summary>
/// A compiled program's memory and commands for one donation pattern, made once: every variable
/// has a fixed place, and the program's dispatches are recorded into a <see cref="StaticRecording"/>
/// that each call submits unchanged.
/// <para>Placement: each input has a fixed slot that a call fills by a copy (or finds already
/// filled: a donated input paired with an output of the same dtype and length holds that output at
/// the end of the call, and the result handed back is that slot; passing it back donated costs no
/// copy). Intermediates get buffers by lifetime: a buffer returns to a free list after its last
/// reader and serves a later variable of the same size class; an elementwise equation whose input
/// dies there writes its output in place. Kernel scratch buffers come from the same free list and
/// go back after their equation. A paired output that cannot be written into its slot in place
/// (the input is still read later) is copied there by the last commands of the recording.
/// Outputs not paired are copied into fresh buffers after each call. Slots of arguments that are
/// not donated keep their contents: the next call skips the copy when it passes the same buffer.</para>
/// </summary>
internal sealed class ProgramPlan : IDisposable
{
    readonly VulkanBackend _b;
    readonly List<Chunk> _owned = new();
    readonly Dictionary<ulong, Stack<VulkanBuffer>> _free = new();
    readonly List<VulkanBuffer> _scratch = new();
    bool _disposed;

    /// <summary>The donation pattern this plan was made for.</summary>
    public readonly bool[] Donated;
    /// <summary>Per input, its fixed slot.</summary>
    public readonly VulkanBuffer[] InSlots;
    /// <summary>Per output, the input whose slot holds it at the end of a call, or -1 (copied out after the call).</summary>
    public readonly int[] PairedInput;
    /// <summary>Per output, the buffer holding it at the end of the recorded commands.</summary>
    public readonly VulkanBuffer[] OutBuffers;
    /// <summary>The recorded commands.</summary>
    public readonly StaticRecording Recording;
    /// <summary>Per input slot, the result tensor's buffer last handed out over it (paired slots only).</summary>
    public readonly WeakReference<VulkanBuffer>?[] Leased;
    /// <summary>Per input slot that keeps its argument for the whole call (a kept, not donated one), the argument's buffer last copied into it.</summary>
    public readonly WeakReference<Stax.Backends.DeviceBuffer>?[] LastCopied;
    /// <summary>Serial of the last submission that ran the recording.</summary>
    public long LastSubmission;

    // A planned buffer and how many live variables share it.
    sealed class Place(VulkanBuffer buffer, bool reserved)
    {
        public readonly VulkanBuffer Buffer = buffer;
        public readonly bool Reserved = reserved; // a paired input slot: never on the free list
        public int Live;
    }

    public ProgramPlan(VulkanBackend b, Jaxpr program, Eqn[] eqns, Var[] outVars, bool[] donated)
    {
        _b = b;
        Donated = donated;
        var inVars = program.InVars;
        int nIn = inVars.Length, nOut = outVars.Length;
        InSlots = new VulkanBuffer[nIn];
        PairedInput = new int[nOut];
        OutBuffers = new VulkanBuffer[nOut];
        Leased = new WeakReference<VulkanBuffer>?[nIn];
        LastCopied = new WeakReference<Stax.Backends.DeviceBuffer>?[nIn];
        Array.Fill(PairedInput, -1);

        // Views (reshape, identities) share their operand's buffer: the variable that actually owns each buffer.
        var root = new Dictionary<Var, Var>(ReferenceEqualityComparer.Instance);
        Var Root(Var v) => root.TryGetValue(v, out var r) ? r : v;
        foreach (var e in eqns)
            if (VulkanBackend.IsView(e.Primitive)) root[e.Outputs[0]] = Root(e.Inputs[0]);
        var inputIndex = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < nIn; i++) inputIndex[inVars[i]] = i;
        // An output pairs with a donated input of the same dtype and length (first free one, in
        // order: a train step returns its state in the order it takes it). Outputs that are (views
        // of) inputs, and inputs some output is a view of, stay unpaired: their slots must keep
        // the input's value.
        var viewedInput = new HashSet<int>();
        foreach (var v in outVars) if (inputIndex.TryGetValue(Root(v), out int i)) viewedInput.Add(i);
        var pairOf = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        var taken = new bool[nIn];
        for (int o = 0; o < nOut; o++)
        {
            var v = outVars[o];
            if (inputIndex.ContainsKey(Root(v)) || pairOf.ContainsKey(v) || v.Aval.Size == 0) continue;
            for (int i = 0; i < nIn; i++)
            {
                if (taken[i] || i >= donated.Length || !donated[i] || viewedInput.Contains(i)) continue;
                var a = inVars[i].Aval;
                if (a.DType != v.Aval.DType || a.Size != v.Aval.Size) continue;
                taken[i] = true;
                pairOf[v] = i;
                PairedInput[o] = i;
                break;
            }
        }

        // Last equation reading each variable (program outputs live to the end).
        var last = new Dictionary<Var, int>(ReferenceEqualityComparer.Instance);
        for (int k = 0; k < eqns.Length; k++) foreach (var v in eqns[k].Inputs) last[v] = k;
        foreach (var v in outVars) last[v] = int.MaxValue;

        var place = new Dictionary<Var, Place>(ReferenceEqualityComparer.Instance);
        var slotPlace = new Place[nIn];
        for (int i = 0; i < nIn; i++)
        {
            var a = inVars[i].Aval;
            // Slots of kept arguments are never reused for intermediates: a call passing the same
            // buffer again (weights, a batch) skips the copy, since a live buffer's value never changes.
            bool kept = i >= donated.Length || !donated[i];
            var p = slotPlace[i] = new Place(NewBuffer(a.DType, a.Size), taken[i] || kept);
            InSlots[i] = p.Buffer;
            place[inVars[i]] = p;
            if (last.ContainsKey(inVars[i])) p.Live++;
        }

        Recording = b.Stream.BeginCapture();
        b.Capturing = this;
        try
        {
            for (int k = 0; k < eqns.Length; k++)
            {
                var e = eqns[k];
                var inPlaces = e.Inputs.Select(v => place[v]).ToArray();
                // Variables read for the last time here.
                var dying = new List<Place>();
                foreach (var v in e.Inputs.Distinct(ReferenceEqualityComparer.Instance).Cast<Var>())
                    if (last[v] == k && --place[v].Live == 0) dying.Add(place[v]);
                var outPlaces = new Place[e.Outputs.Length];
                for (int j = 0; j < e.Outputs.Length; j++)
                {
                    var u = e.Outputs[j];
                    Place p;
                    if (VulkanBackend.IsView(e.Primitive))
                    {
                        p = inPlaces[0];
                        dying.Remove(p);
                    }
                    else if (pairOf.TryGetValue(u, out int i) && slotPlace[i].Live == 0
                        && (!dying.Contains(slotPlace[i]) || InPlace(e, j, slotPlace[i], inPlaces)))
                    {
                        p = slotPlace[i];
                        dying.Remove(p);
                    }
                    else if (dying.FirstOrDefault(d => !d.Reserved && InPlace(e, j, d, inPlaces)) is { } d)
                    {
                        p = d;
                        dying.Remove(d);
                    }
                    else p = new Place(Take(u.Aval.DType, u.Aval.Size), reserved: false);
                    if (last.ContainsKey(u)) p.Live++;
                    else if (p.Live == 0) dying.Add(p); // never read: free after this equation
                    place[u] = p;
                    outPlaces[j] = p;
                }
                if (!VulkanBackend.IsView(e.Primitive))
                {
                    var rec = Recording.ReadOnly;
                    rec.Clear();
                    foreach (var p in inPlaces) if (p.Buffer.Chunk is { } c) rec.Add((c.Block.Buffer, c.Offset));
                    foreach (var p in outPlaces) if (p.Buffer.Chunk is { } c) rec.Remove((c.Block.Buffer, c.Offset));
                    var dummy = b.Bind(null);
                    rec.Add((dummy.Buffer, dummy.Offset)); // unused bindings: never written
                    if (e.Primitive == FusionPass.Fused)
                        FusionKernel.Run(b, (FusedChainParams)e.Params, inPlaces.Select(p => p.Buffer).ToArray(), outPlaces.Select(p => p.Buffer).ToArray());
                    else
                    using (e.Scope != null ? NameScope.Push(e.Scope, replace: true) : null)
                        b.RunKernel(e.Primitive, e.Params, inPlaces.Select(p => p.Buffer).ToArray(), outPlaces.Select(p => p.Buffer).ToArray(),
                            e.Inputs.Select(v => v.Aval).ToArray(), e.Outputs.Select(v => v.Aval).ToArray());
                    Recording.ReadOnly.Clear();
                    // Scratch buffers of this kernel are free again for later equations.
                    foreach (var s in _scratch) Give(s);
                    _scratch.Clear();
                }
                foreach (var p in dying) if (!p.Reserved) Give(p.Buffer);
            }
            // Paired outputs not written in place are copied into their slots at the end.
            for (int o = 0; o < nOut; o++)
            {
                var buf = place[outVars[o]].Buffer;
                int i = PairedInput[o];
                if (i >= 0 && !ReferenceEquals(buf, InSlots[i]))
                {
                    if (place[outVars[o]].Reserved) { PairedInput[o] = -1; OutBuffers[o] = buf; continue; }
                    Recording.Copy(b.Bind(buf), b.Bind(InSlots[i]), (ulong)((buf.ByteLength + 3) & ~3));
                    buf = InSlots[i];
                }
                OutBuffers[o] = buf;
            }
            Recording.End();
        }
        catch
        {
            b.Capturing = null;
            b.Stream.EndCapture();
            Dispose();
            throw;
        }
        b.Capturing = null;
        b.Stream.EndCapture();
    }

    // An elementwise equation may write output j over input place d: each invocation reads element
    // i of its operands and then writes element i, and 4-byte elements share no words.
    static bool InPlace(Eqn e, int j, Place d, Place[] inPlaces)
    {
        // A fused chain loads all its operands before it stores: an operand read at element i only
        // (not a splat, row or column) may be overwritten.
        if (e.Params is FusedChainParams fp)
        {
            for (int i = 0; i < inPlaces.Length; i++)
                if (ReferenceEquals(inPlaces[i], d) && fp.Modes[i] != 0) return false;
        }
        else if (!VulkanBackend.IsElementwise(e.Primitive)) return false;
        var ot = e.Outputs[j].Aval;
        if (ot.DType.SizeOf() != 4) return false;
        for (int i = 0; i < inPlaces.Length; i++)
            if (ReferenceEquals(inPlaces[i], d) && (e.Inputs[i].Aval.DType.SizeOf() != 4 || e.Inputs[i].Aval.Size != ot.Size)) return false;
        return Array.IndexOf(inPlaces, d) >= 0 && d.Buffer.DType == ot.DType && d.Buffer.Length == ot.Size;
    }

    static ulong Key(DType dt, long length) => MemoryPool.SizeClass((ulong)Math.Max(4, (length * dt.SizeOf() + 3) & ~3L));

    VulkanBuffer NewBuffer(DType dt, long length)
    {
        if (length == 0) return new VulkanBuffer(_b, dt, 0, null, null);
        var c = _b.AllocateChunk(dt, length);
        _owned.Add(c);
        return new VulkanBuffer(_b, dt, length, c, null);
    }

    // A buffer from the free list (same size class) or a new one, viewed as dt[length].
    VulkanBuffer Take(DType dt, long length)
    {
        if (length == 0) return new VulkanBuffer(_b, dt, 0, null, null);
        if (_free.TryGetValue(Key(dt, length), out var s) && s.Count > 0)
            return new VulkanBuffer(_b, dt, length, s.Pop().Chunk, null);
        return NewBuffer(dt, length);
    }

    void Give(VulkanBuffer buf)
    {
        if (buf.Chunk == null) return;
        var key = buf.Chunk.Size;
        if (!_free.TryGetValue(key, out var s)) _free[key] = s = new Stack<VulkanBuffer>();
        if (!s.Any(x => ReferenceEquals(x.Chunk, buf.Chunk))) s.Push(buf);
    }

    /// <summary>A kernel's scratch buffer while recording: free again after the equation.</summary>
    public VulkanBuffer Scratch(DType dt, long length)
    {
        var buf = Take(dt, length);
        _scratch.Add(buf);
        return buf;
    }

    /// <summary>A buffer whose contents the host writes once while recording (kernel tables): never reused.</summary>
    public VulkanBuffer Constant(DType dt, long length) => NewBuffer(dt, length);

    /// <summary>Returns the plan's memory to the pool once its last submission has finished.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _b.Stream.WaitFor(LastSubmission);
        Recording.Dispose();
        // A slot still held by a result keeps its memory: the result's buffer releases it.
        var kept = new HashSet<Chunk>(ReferenceEqualityComparer.Instance);
        foreach (var w in Leased)
            if (w != null && w.TryGetTarget(out var t) && !t.IsDisposed && t.Chunk != null && t.Adopt(_b.Pool)) kept.Add(t.Chunk);
        foreach (var c in _owned) if (!kept.Contains(c)) _b.Pool.Release(c, LastSubmission);
        _owned.Clear();
    }
}
