using System.Runtime.InteropServices;

namespace Stax.Distributed;

/// <summary>
/// The few MPI entry points Stax needs, found at run time in Open MPI's <c>libmpi</c>. Open MPI's
/// handles are pointers and its predefined ones (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>,
/// <c>MPI_SUM</c>, ...) are the addresses of exported globals (<c>ompi_mpi_comm_world</c>, ...);
/// MPICH's handles are integers, a different ABI, which this binding rejects by name.
/// </summary>
internal sealed unsafe class MpiLibrary
{
    public const int Success = 0;
    public const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED in Open MPI's mpi.h
    public static readonly void* InPlace = (void*)1; // MPI_IN_PLACE

    static readonly string[] Names = { "libmpi.so.40", "libmpi.so" };

    readonly nint _lib;
    public string LibraryName { get; }

    public readonly delegate* unmanaged<int*, byte***, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int> FinalizeFn;
    public readonly delegate* unmanaged<nint, int*, int> CommRank;
    public readonly delegate* unmanaged<nint, int*, int> CommSize;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int> Iallreduce;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, int, nint, nint*, int> Ireduce;
    public readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, nint*, int> Iallgather;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, nint*, int> Ibcast;
    public readonly delegate* unmanaged<nint, nint*, int> Ibarrier;
    public readonly delegate* unmanaged<void*, void*, int*, nint, nint, nint, int> ReduceScatter;
    public readonly delegate* unmanaged<void*, void*, int*, nint, nint, nint, nint*, int> IreduceScatter;
    public readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> Allgatherv;
    public readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, nint*, int> Iallgatherv;
    public readonly delegate* unmanaged<nint*, int*, void*, int> Test;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<byte*, int*, int> GetLibraryVersion;

    public readonly nint CommWorld, Byte, Float, Double, Int, Unsigned, OpSum, OpMax, OpMin;

    MpiLibrary(nint lib, string name)
    {
        _lib = lib;
        LibraryName = name;
        if (!NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out CommWorld))
            throw new MpiNotAvailableException($"{name} is not Open MPI (no ompi_mpi_comm_world); Stax.Distributed binds Open MPI's ABI only (MPICH's handles differ)");
        InitThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Fn("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Fn("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Fn("MPI_Finalized");
        FinalizeFn = (delegate* unmanaged<int>)Fn("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Fn("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Fn("MPI_Comm_size");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Fn("MPI_Allreduce");
        Iallreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, nint*, int>)Fn("MPI_Iallreduce");
        Ireduce = (delegate* unmanaged<void*, void*, int, nint, nint, int, nint, nint*, int>)Fn("MPI_Ireduce");
        Iallgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, nint*, int>)Fn("MPI_Iallgather");
        Ibcast = (delegate* unmanaged<void*, int, nint, int, nint, nint*, int>)Fn("MPI_Ibcast");
        Ibarrier = (delegate* unmanaged<nint, nint*, int>)Fn("MPI_Ibarrier");
        ReduceScatter = (delegate* unmanaged<void*, void*, int*, nint, nint, nint, int>)Fn("MPI_Reduce_scatter");
        IreduceScatter = (delegate* unmanaged<void*, void*, int*, nint, nint, nint, nint*, int>)Fn("MPI_Ireduce_scatter");
        Allgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)Fn("MPI_Allgatherv");
        Iallgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, nint*, int>)Fn("MPI_Iallgatherv");
        Test = (delegate* unmanaged<nint*, int*, void*, int>)Fn("MPI_Test");
        Abort = (delegate* unmanaged<nint, int, int>)Fn("MPI_Abort");
        GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Fn("MPI_Get_library_version");
        Byte = Global("ompi_mpi_byte");
        Float = Global("ompi_mpi_float");
        Double = Global("ompi_mpi_double");
        Int = Global("ompi_mpi_int");
        Unsigned = Global("ompi_mpi_unsigned");
        OpSum = Global("ompi_mpi_op_sum");
        OpMax = Global("ompi_mpi_op_max");
        OpMin = Global("ompi_mpi_op_min");
    }

    nint Fn(string name) => NativeLibrary.TryGetExport(_lib, name, out var p) ? p
        : throw new MpiNotAvailableException($"{LibraryName} has no entry point {name}");

    nint Global(string name) => NativeLibrary.TryGetExport(_lib, name, out var p) ? p
        : throw new MpiNotAvailableException($"{LibraryName} has no global {name} (an Open MPI version this binding does not know)");

    // Open MPI opens its components (plugins) with dlopen, and they resolve symbols of libmpi
    // globally: libmpi must be loaded RTLD_GLOBAL, which NativeLibrary.Load does not do.
    [DllImport("libc", EntryPoint = "dlopen")]
    static extern nint DlOpen(string file, int mode);
    [DllImport("libc", EntryPoint = "dlerror")]
    static extern nint DlError();
    const int RtldNow = 2, RtldGlobal = 0x100;

    static MpiLibrary? _instance;
    static string? _failure;
    static readonly object Gate = new();

    /// <summary>Loads Open MPI once per process, or throws <see cref="MpiNotAvailableException"/>.</summary>
    public static MpiLibrary Load()
    {
        lock (Gate)
        {
            if (_instance != null) return _instance;
            if (_failure != null) throw new MpiNotAvailableException(_failure);
            var tried = new List<string>();
            try
            {
                foreach (var name in Names)
                {
                    nint h = 0;
                    if (OperatingSystem.IsLinux())
                    {
                        try
                        {
                            h = DlOpen(name, RtldNow | RtldGlobal);
                            if (h == 0 && DlError() is var e && e != 0) tried.Add($"{name} ({Marshal.PtrToStringUTF8(e)})");
                        }
                        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { }
                    }
                    if (h == 0 && !NativeLibrary.TryLoad(name, out h)) continue;
                    return _instance = new MpiLibrary(h, name);
                }
                throw new MpiNotAvailableException(
                    $"Open MPI's libmpi could not be loaded ({(tried.Count > 0 ? string.Join("; ", tried) : string.Join(", ", Names) + " not found")}); install it, e.g. apt-get install openmpi-bin libopenmpi-dev");
            }
            catch (MpiNotAvailableException e)
            {
                _failure = e.Reason;
                throw;
            }
        }
    }

    /// <summary>The library's own version string (MPI_Get_library_version).</summary>
    public string Version()
    {
        var buf = stackalloc byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI; generous
        int len = 0;
        if (GetLibraryVersion(buf, &len) != Success) return "unknown";
        return new string((sbyte*)buf, 0, Math.Clamp(len, 0, 8192)).Trim('\0', ' ', '\n');
    }
}
