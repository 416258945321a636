using System.Runtime.Intrinsics;

namespace Stax;

/// <summary>Instruction-set paths of the CPU kernels, widest last.</summary>
public enum Isa
{
    /// <summary>Plain scalar loops.</summary>
    Scalar,
    /// <summary>128-bit vectors (SSE / NEON).</summary>
    Vector128,
    /// <summary>256-bit vectors (AVX2).</summary>
    Vector256,
    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512,
}

/// <summary>
/// Process-wide settings of the CPU backend: which SIMD path the kernels use and how many threads
/// they run on. Environment: <c>STAX_ISA</c> (scalar, vector128, vector256, vector512) and
/// <c>STAX_NUM_THREADS</c>. In-process: the setters, or a scope from <see cref="UseIsa"/> /
/// <see cref="UseThreads"/> that applies to the current thread (and async flow) only.
/// </summary>
public static class Config
{
    static Isa? _isa;
    static int? _threads;
    static readonly AsyncLocal<Isa?> ScopedIsa = new();
    static readonly AsyncLocal<int?> ScopedThreads = new();

    /// <summary>The widest path this machine accelerates.</summary>
    public static Isa BestIsa { get; } =
        Vector512.IsHardwareAccelerated ? Isa.Vector512 :
        Vector256.IsHardwareAccelerated ? Isa.Vector256 :
        Vector128.IsHardwareAccelerated ? Isa.Vector128 : Isa.Scalar;

    /// <summary>Every path this machine can run (always includes <see cref="Isa.Scalar"/>).</summary>
    public static IReadOnlyList<Isa> AvailableIsas { get; } =
        Enum.GetValues<Isa>().Where(i => i <= BestIsa).ToArray();

    /// <summary>The SIMD path kernels use now. Setting one the machine lacks throws.</summary>
    public static Isa Isa
    {
        get => ScopedIsa.Value ?? _isa ?? (_isa = FromEnvironment()).Value;
        set { Check(value); _isa = value; }
    }

    static Isa FromEnvironment()
    {
        var env = Environment.GetEnvironmentVariable("STAX_ISA");
        if (string.IsNullOrWhiteSpace(env)) return BestIsa;
        if (!Enum.TryParse<Isa>(env.Trim(), ignoreCase: true, out var isa))
            throw new ArgumentException($"STAX_ISA='{env}' is not one of: {string.Join(", ", Enum.GetNames<Isa>())}");
        Check(isa);
        return isa;
    }

    static void Check(Isa isa)
    {
        if (isa > BestIsa)
            throw new NotSupportedException($"Config.Isa: {isa} is not accelerated on this machine (best: {BestIsa})");
    }

    /// <summary>Uses <paramref name="isa"/> on this thread until the scope is disposed.</summary>
    public static IDisposable UseIsa(Isa isa)
    {
        Check(isa);
        var old = ScopedIsa.Value;
        ScopedIsa.Value = isa;
        return new Restore(() => ScopedIsa.Value = old);
    }

    /// <summary>Number of threads kernels may use (default: processor count).</summary>
    public static int NumThreads
    {
        get => ScopedThreads.Value ?? _threads ?? (_threads = ThreadsFromEnvironment()).Value;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"Config.NumThreads must be at least 1, got {value}");
            _threads = value;
        }
    }

    static int ThreadsFromEnvironment()
    {
        var env = Environment.GetEnvironmentVariable("STAX_NUM_THREADS");
        if (string.IsNullOrWhiteSpace(env)) return Environment.ProcessorCount;
        if (!int.TryParse(env, out var n) || n < 1)
            throw new ArgumentException($"STAX_NUM_THREADS='{env}' must be a positive integer");
        return n;
    }

    /// <summary>Uses <paramref name="threads"/> kernel threads on this thread until disposed.</summary>
    public static IDisposable UseThreads(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        var old = ScopedThreads.Value;
        ScopedThreads.Value = threads;
        return new Restore(() => ScopedThreads.Value = old);
    }

    sealed class Restore(Action undo) : IDisposable
    {
        bool _done;
        public void Dispose() { if (!_done) { _done = true; undo(); } }
    }
}
