using Stax.Backends;
using Stax.Tracing;

namespace Stax.Vulkan;

/// <summary>
/// A staged program compiled for Vulkan: the backend-independent passes run once, and per donation
/// pattern a <see cref="ProgramPlan"/> fixes every buffer and records the commands once. A call
/// then copies the arguments that are not already in place into their slots, and submits those
/// copies, the recorded commands and the copies of the unpaired results in one queue submission,
/// without waiting: results are read (and waited for) only when the caller reads them.
/// </summary>
internal sealed class CompiledExecutable : IExecutable, IDisposable
{
    readonly VulkanBackend _b;
    readonly Jaxpr _program;
    readonly Eqn[] _eqns;
    readonly Var[] _outVars;
    ProgramPlan? _plan;

    /// <summary>How often this program's commands were recorded (once per donation pattern it was called with).</summary>
    public int Recordings { get; private set; }

    /// <summary>Dispatches in the recorded commands of the current plan (0 before the first call).</summary>
    public int Dispatches => _plan?.Recording.Dispatches ?? 0;

    /// <summary>Barriers in the recorded commands of the current plan.</summary>
    public int Barriers => _plan?.Recording.Barriers ?? 0;

    /// <summary>The program's equations after the passes and fusion (views included), for tests and diagnostics.</summary>
    internal IEnumerable<string> StepNames => _eqns.Select(e => e.Params is FusedChainParams f
        ? f.Summary
        : $"{e.Primitive.Name} {string.Join(" ", e.Inputs.Select(v => v.Aval.Shape))}");

    /// <summary>Equations per primitive (fused chains as one name), views left out: where the dispatches come from.</summary>
    internal IEnumerable<(string Primitive, int Count)> Histogram => _eqns.Where(e => !VulkanBackend.IsView(e.Primitive))
        .GroupBy(e => e.Primitive.Name).Select(g => (g.Key, g.Count())).OrderByDescending(x => x.Item2);

    /// <summary>Each fused chain: its kernel, output size and primitives.</summary>
    internal IEnumerable<string> Chains => _eqns.Where(e => e.Params is FusedChainParams)
        .Select(e => $"{((FusedChainParams)e.Params).Shader} {e.Outputs[0].Aval.Shape} "
                     + $"in {e.Inputs.Length} out {e.Outputs.Length}: {e.Params}");

    public CompiledExecutable(VulkanBackend b, Jaxpr program, Eqn[] eqns, Var[] outVars)
    {
        _b = b;
        _program = program;
        _eqns = eqns;
        _outVars = outVars;
    }

    public Tensor[] Run(Tensor[] args) => Run(args, null);

    public Tensor[] Run(Tensor[] args, bool[]? donated)
    {
        var inVars = _program.InVars;
        if (args.Length != inVars.Length)
            throw new ArgumentException($"program expects {inVars.Length} inputs, got {args.Length}");
        var mask = new bool[args.Length];
        if (donated != null) for (int i = 0; i < mask.Length && i < donated.Length; i++) mask[i] = donated[i];
        lock (_b.Gate)
        {
            _b.CheckAlive();
            for (int i = 0; i < args.Length; i++)
                if (args[i].Shape != inVars[i].Aval.Shape || args[i].DType != inVars[i].Aval.DType)
                    throw new ArgumentException(
                        $"jit on vulkan: input {i} has type {args[i].Aval}, the program expects {inVars[i].Aval}");
            if (_plan == null || !_plan.Donated.AsSpan().SequenceEqual(mask))
            {
                _plan?.Dispose();
                _plan = null;
                _plan = new ProgramPlan(_b, _program, _eqns, _outVars, mask);
                Recordings++;
                _b.CountRecording();
            }
            var plan = _plan;
            var stream = _b.Stream;
            // Kept arguments whose buffer was copied into their slot by an earlier call are there
            // already (a live buffer's value never changes); others from other backends are uploaded.
            var inPlace = new bool[args.Length];
            var bufs = new VulkanBuffer[args.Length];
            for (int i = 0; i < args.Length; i++)
            {
                var a = args[i];
                if (!mask[i] && plan.LastCopied[i] is { } lc && lc.TryGetTarget(out var prev) && ReferenceEquals(prev, a.Buffer)
                    && !(prev is VulkanBuffer pv && pv.IsDisposed))
                {
                    inPlace[i] = true;
                    bufs[i] = plan.InSlots[i];
                    continue;
                }
                bufs[i] = a.Buffer is VulkanBuffer vb && ReferenceEquals(vb.Backend, _b) && !vb.IsDisposed
                    ? vb : (VulkanBuffer)_b.Upload(a.ToBytes(), a.DType);
                if (!mask[i] && a.Buffer != null) plan.LastCopied[i] = new WeakReference<Stax.Backends.DeviceBuffer>(a.Buffer);
            }
            var stamp = new List<VulkanBuffer>(); // read or written by this call's submission
            // A slot's last result is taken back when it comes back donated in the same position
            // (and nowhere else); otherwise, if the caller may still read it, it moves to its own memory.
            var reclaimed = new bool[args.Length];
            for (int i = 0; i < args.Length; i++)
            {
                if (plan.Leased[i] is not { } w) continue;
                plan.Leased[i] = null;
                if (!w.TryGetTarget(out var held) || held.IsDisposed) continue;
                bool onlyHere = mask[i] && ReferenceEquals(bufs[i], held);
                for (int j = 0; j < args.Length && onlyHere; j++) onlyHere = j == i || !ReferenceEquals(bufs[j], held);
                if (onlyHere) { reclaimed[i] = true; continue; }
                var chunk = _b.AllocateChunk(held.DType, held.Length);
                stream.Copy(_b.Bind(held), new Binding(chunk.Block.Buffer, chunk.Offset, chunk.Size),
                            (ulong)((held.ByteLength + 3) & ~3));
                held.Retarget(chunk, _b.Pool);
                stamp.Add(held);
            }
            for (int i = 0; i < args.Length; i++)
            {
                if (reclaimed[i] || inPlace[i] || bufs[i].Length == 0) continue;
                stream.Copy(_b.Bind(bufs[i]), _b.Bind(plan.InSlots[i]), (ulong)((bufs[i].ByteLength + 3) & ~3));
                stamp.Add(bufs[i]);
            }
            var results = new Tensor[_outVars.Length];
            var post = new List<(Binding, Binding, ulong)>();
            bool committed = args.Length == 0 || args.Any(a => a.Committed);
            for (int o = 0; o < results.Length; o++)
            {
                var aval = _outVars[o].Aval;
                int i = plan.PairedInput[o];
                VulkanBuffer r;
                if (i >= 0)
                {
                    r = new VulkanBuffer(_b, aval.DType, aval.Size, plan.InSlots[i].Chunk, null);
                    plan.Leased[i] = new WeakReference<VulkanBuffer>(r);
                }
                else
                {
                    r = _b.Allocate(aval.DType, aval.Size);
                    if (r.Length > 0) post.Add((_b.Bind(plan.OutBuffers[o]), _b.Bind(r), (ulong)((r.ByteLength + 3) & ~3)));
                }
                stamp.Add(r);
                results[o] = new Tensor(r, aval) { Committed = committed };
            }
            long serial = stream.SubmitProgram(plan.Recording, post);
            foreach (var b in stamp) b.LastUse = serial;
            for (int i = 0; i < bufs.Length; i++) if (!inPlace[i]) bufs[i].LastUse = Math.Max(bufs[i].LastUse, serial);
            plan.LastSubmission = serial;
            // Donated arguments not taken back are the program's to free (unless a kept argument
            // shares them); so are our uploads of arguments from other backends.
            for (int i = 0; i < args.Length; i++)
            {
                if (inPlace[i]) continue;
                if (!ReferenceEquals(bufs[i], args[i].Buffer)) { bufs[i].Dispose(); continue; }
                if (!mask[i] || reclaimed[i]) continue;
                bool kept = false;
                for (int j = 0; j < args.Length && !kept; j++) kept = !mask[j] && ReferenceEquals(bufs[j], bufs[i]);
                if (!kept) bufs[i].Dispose();
            }
            return results;
        }
    }

    /// <summary>Frees the recorded commands and the plan's memory (after its last call finishes).</summary>
    public void Dispose()
    {
        lock (_b.Gate)
        {
            _plan?.Dispose();
            _plan = null;
        }
    }
}
