using Stax.Backends;
using Stax.Compiler;
using Stax.Tracing;

namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    long _recordings;

    /// <summary>How many times compiled programs recorded their command buffers (once per program
    /// and donation pattern; calls replay the recording).</summary>
    public long ProgramRecordings => Interlocked.Read(ref _recordings);

    internal void CountRecording() => Interlocked.Increment(ref _recordings);

    /// <summary>
    /// Prepares a staged program. After the backend-independent passes (inlining, transposed
    /// products, splat rematerialization, dead-code elimination), a program whose every equation
    /// has a Vulkan kernel is compiled: its buffers are planned and its commands recorded once, and
    /// each call is one queue submission of that recording (see <see cref="CompiledExecutable"/>).
    /// Programs with captured constants, or with equations that have no kernel here (control flow
    /// such as while/cond/scan, whose decisions are taken on the host, and any primitive the backend
    /// lacks) are interpreted instead: each call records every equation into the command stream.
    /// Chains of elementwise equations run fused (<see cref="FusionPass"/>, <see cref="FusesChains"/>).
    /// <c>STAX_VULKAN_JIT=interpret</c> interprets every program (for comparisons).
    /// </summary>
    public IExecutable Compile(Jaxpr program)
    {
        string? reason = Environment.GetEnvironmentVariable("STAX_VULKAN_JIT") == "interpret"
            ? "STAX_VULKAN_JIT=interpret"
            : null;
        if (reason == null && program.ConstVars.Length > 0) reason = "the program captures constants";
        if (reason == null)
        {
            // Transposed products are folded only where the folded product still reads its right
            // operand row-major (weight gradients: both forms contract the rows of both operands):
            // the GEMM shader's fast (vec4) path needs that layout, so elsewhere a separate
            // transpose is cheaper than a strided product.
            var (eqns, outVars) = StandardPasses.Run(program, evaluationOnly: true, foldTransposes: false);
            eqns = FoldTransposedProducts.Run(new Jaxpr(program.ConstVars, program.InVars, eqns, outVars), RowMajorRhs);
            eqns = DeadCodeElimination.Run(eqns, outVars, HasKernel);
            reason = CompileBlocker(program, eqns);
            if (reason == null)
            {
                if (FusesChains) eqns = FusionPass.Run(eqns, outVars);
                return LastCompiled = new CompiledExecutable(this, program, eqns, outVars);
            }
        }
        return new VulkanExecutable(this, program, reason);
    }

    /// <summary>The program compiled last (diagnostics: the bench's per-primitive histogram).</summary>
    internal CompiledExecutable? LastCompiled;

    /// <summary>Test hook: fuse chains (true) or not (false) regardless of the device; null for the default.</summary>
    internal bool? FusionOverride;

    /// <summary>
    /// Whether compiled programs fuse elementwise chains: yes on every device, since each chain is
    /// a pipeline specialized with its operations (<see cref="FusionKernel"/>) and runs as
    /// straight-line code; on lavapipe the fused MLP step takes 0.67-0.89x of the unfused one's time.
    /// <c>STAX_VULKAN_FUSION=0</c> turns fusion off (<c>1</c> forces it). The device must also
    /// bind the fused kernels' storage buffers in one stage.
    /// </summary>
    internal bool FusesChains
    {
        get
        {
            if (Ctx.Capabilities.MaxPerStageStorageBuffers < FusionPass.Bindings) return false;
            if (FusionOverride is { } o) return o;
            return Environment.GetEnvironmentVariable("STAX_VULKAN_FUSION") switch
            {
                "1" => true,
                "0" => false,
                _ => true,
            };
        }
    }

    // A product whose right operand is contracted along its first dimension (the GEMM's fast layout).
    static bool RowMajorRhs(Eqn e)
    {
        var p = (DotGeneralParams)e.Params;
        return p.RhsBatch.Length == 0 && e.Inputs[1].Aval.Rank == 2 && p.RhsContracting.Length == 1 && p.RhsContracting[0] == 0;
    }

    // A primitive recorded as a kernel (no host-side implementation of its own, a kernel here), or a free view.
    static bool HasKernel(Eqn e) => IsView(e.Primitive) || e.Primitive.Impl == null && Kernels.ContainsKey(e.Primitive);

    /// <summary>
    /// Primitives whose output is their first operand's buffer (reshape, and the identities stop_gradient and sow).
    /// </summary>
    internal static bool IsView(Primitive p) => p == Prims.Reshape || p == Prims.StopGradient || p == Prims.Sow;

    /// <summary>
    /// Primitives whose kernel (elementwise.comp) reads element i of its operands and then writes element i of its output.
    /// </summary>
    internal static bool IsElementwise(Primitive p)
        => Stax.Backends.ElementwiseOps.Of(p).Count > 0 || p == Prims.Select || p == Prims.ConvertElementType;

    // Why a program cannot be recorded statically, or null.
    string? CompileBlocker(Jaxpr program, Eqn[] eqns)
    {
        foreach (var e in eqns)
        {
            if (!HasKernel(e)) return $"{e.Primitive.Name} has no Vulkan kernel (it is bound on the host)";
            foreach (var v in e.Inputs.Concat(e.Outputs))
            {
                if (!Supports(v.Aval.DType)) return $"{e.Primitive.Name} uses {v.Aval.DType.Name()}";
                if ((ulong)(v.Aval.Size * v.Aval.DType.SizeOf()) > Ctx.Capabilities.MaxStorageBufferRange)
                    return $"{e.Primitive.Name} has an operand larger than one storage buffer";
            }
        }
        foreach (var v in program.InVars)
            if (!Supports(v.Aval.DType)) return $"an input is {v.Aval.DType.Name()}";
        return null;
    }

    /// <summary>The interpreted fallback: each call records every equation into the command stream
    /// (one global barrier between dispatches), then submits without waiting (not equation by equation
    /// as eager operations on an idle queue are; reading a value inside, for control flow, still waits).</summary>
    internal sealed class VulkanExecutable(VulkanBackend backend, Jaxpr program, string reason) : IExecutable
    {
        readonly InterpretedExecutable _inner = new(program);

        /// <summary>Why the program is interpreted.</summary>
        public string Reason => reason;

        public Tensor[] Run(Tensor[] args) => Run(args, null);

        public Tensor[] Run(Tensor[] args, bool[]? donated)
        {
            lock (backend.Gate)
            {
                backend.CheckAlive();
                backend.Stream.Flush();
                bool submitWhenIdle = backend.Stream.SubmitWhenIdle;
                backend.Stream.SubmitWhenIdle = false;
                try { return _inner.Run(args, donated); }
                finally
                {
                    backend.Stream.SubmitWhenIdle = submitWhenIdle;
                    backend.Stream.Flush();
                }
            }
        }
    }
}
