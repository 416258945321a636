namespace Stax.Distributed;

/// <summary>
/// Several processes (an MPI job started by <c>mpirun</c>) as one named axis. After
/// <see cref="Initialize"/>, <c>Transforms.Psum(x, "batch")</c>, <c>Pmean</c>, <c>Pmax</c>,
/// <c>Pmin</c>, <c>AllGather</c>, <c>PsumScatter</c>, <c>AxisIndex</c> and <c>AxisSize</c> over the
/// axis name combine the processes, eagerly and inside <c>Jit</c> (the collective is a primitive of
/// the compiled program), exactly as they combine the members of a <c>Vmap</c> with that axis
/// name on one machine. Every process must run the same program: collectives are matched in
/// order, checked for agreement first, and time out instead of hanging.
/// </summary>
public static class Distributed
{
    static readonly object Gate = new();
    static MpiLibrary? _mpi;
    static MpiCommunicator? _comm;
    static IDisposable? _binding;
    static string _axisName = "batch";
    static bool _finalized;

    /// <summary>True once <see cref="Initialize"/> has succeeded (and <see cref="Shutdown"/> has not run).</summary>
    public static bool IsInitialized => _comm != null;

    /// <summary>True when the process was started by an MPI launcher (<c>mpirun</c> sets <c>OMPI_COMM_WORLD_SIZE</c>, <c>PMI_SIZE</c> or <c>PMIX_RANK</c>).</summary>
    public static bool LaunchedByMpirun =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") != null || Environment.GetEnvironmentVariable("PMIX_RANK") != null
        || Environment.GetEnvironmentVariable("PMI_SIZE") != null;

    /// <summary>True when Open MPI's library loads; otherwise <paramref name="reason"/> says why not.</summary>
    public static bool IsAvailable(out string reason)
    {
        try { MpiLibrary.Load(); reason = ""; return true; }
        catch (MpiNotAvailableException e) { reason = e.Reason; return false; }
    }

    /// <summary>
    /// Initializes MPI (<c>MPI_Init_thread</c>, serialized) and binds the ranks as the process axis
    /// <paramref name="axisName"/>. A process started without <c>mpirun</c> becomes a job of one
    /// (rank 0 of 1). <paramref name="timeout"/> bounds every collective (default 120 s, or
    /// <c>STAX_MPI_TIMEOUT</c> seconds): past it the job is aborted with a message naming the
    /// collective. Throws <see cref="MpiNotAvailableException"/> when Open MPI is absent.
    /// </summary>
    public static unsafe void Initialize(string axisName = "batch", TimeSpan? timeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(axisName);
        lock (Gate)
        {
            if (_comm != null)
            {
                if (axisName != _axisName) throw new InvalidOperationException($"Distributed.Initialize: already initialized with axis name '{_axisName}', not '{axisName}'");
                return;
            }
            if (_finalized) throw new InvalidOperationException("Distributed.Initialize: MPI was shut down in this process and cannot be initialized again");
            var mpi = MpiLibrary.Load();
            int already = 0;
            mpi.Initialized(&already);
            if (already == 0)
            {
                int provided = 0;
                int rc = mpi.InitThread(null, null, MpiLibrary.ThreadSerialized, &provided);
                if (rc != MpiLibrary.Success) throw new MpiNotAvailableException($"MPI_Init_thread failed with error code {rc}");
                AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
            }
            int rank = 0, size = 1;
            mpi.CommRank(mpi.CommWorld, &rank);
            mpi.CommSize(mpi.CommWorld, &size);
            var comm = new MpiCommunicator(mpi, rank, size) { Timeout = timeout ?? DefaultTimeout() };
            _binding = ProcessAxes.Bind(new MpiProcessAxis(axisName, comm));
            _mpi = mpi;
            _axisName = axisName;
            _comm = comm;
        }
    }

    static TimeSpan DefaultTimeout()
    {
        var s = Environment.GetEnvironmentVariable("STAX_MPI_TIMEOUT");
        if (s != null && double.TryParse(s, System.Globalization.CultureInfo.InvariantCulture, out var secs) && secs > 0) return TimeSpan.FromSeconds(secs);
        return TimeSpan.FromSeconds(120);
    }

    /// <summary>Finalizes MPI (also done at process exit). Collectives over the axis name then throw "unbound axis name".</summary>
    public static unsafe void Shutdown()
    {
        lock (Gate)
        {
            _binding?.Dispose();
            _binding = null;
            _comm = null;
            if (_mpi == null || _finalized) return;
            int done = 0;
            _mpi.Finalized(&done);
            if (done == 0) _mpi.FinalizeFn();
            _finalized = true;
        }
    }

    internal static MpiCommunicator Comm => _comm ?? throw new InvalidOperationException("Stax.Distributed: call Distributed.Initialize() first");
    internal static MpiLibrary Library => _mpi ?? throw new InvalidOperationException("Stax.Distributed: call Distributed.Initialize() first");

    /// <summary>This process's rank, 0 to <see cref="Size"/> - 1.</summary>
    public static int Rank => Comm.Rank;

    /// <summary>The number of processes.</summary>
    public static int Size => Comm.Size;

    /// <summary>The process axis name given to <see cref="Initialize"/>.</summary>
    public static string AxisName => _comm != null ? _axisName : throw new InvalidOperationException("Stax.Distributed: call Distributed.Initialize() first");

    /// <summary>The Open MPI version string of the loaded library.</summary>
    public static string LibraryVersion => MpiLibrary.Load().Version();

    /// <summary>The deadline of every collective (see <see cref="Initialize"/>).</summary>
    public static TimeSpan Timeout { get => Comm.Timeout; set => Comm.Timeout = value > TimeSpan.Zero ? value : throw new ArgumentOutOfRangeException(nameof(value), "timeout must be positive"); }

    /// <summary>
    /// When true (the default), each collective first all-gathers a 72-byte description (operation,
    /// dtype, shape, sequence number) and throws on every rank when they differ, before any data
    /// moves. Costs one small collective per call; with fused gradients that is one per step.
    /// Because the check completes only when every rank has arrived (within the deadline), a
    /// checked sum/max/min then uses the blocking <c>MPI_Allreduce</c>, faster than
    /// <c>MPI_Iallreduce</c>; unchecked ones use <c>MPI_Iallreduce</c> polled against the deadline.
    /// </summary>
    public static bool VerifyCalls { get => Comm.VerifyCalls; set => Comm.VerifyCalls = value; }

    /// <summary>How sums, maxima and minima are computed (see <see cref="AllReduceAlgorithm"/>).</summary>
    public static AllReduceAlgorithm Algorithm { get => Comm.Algorithm; set => Comm.Algorithm = value; }

    /// <summary>
    /// Combines host values across all processes in place (float, double, int or uint elements),
    /// with the same deadline and agreement check as the tensor collectives.
    /// </summary>
    public static void AllReduce<T>(Span<T> values, ReduceOp op = ReduceOp.Sum) where T : unmanaged
    {
        var dtype = typeof(T) == typeof(float) ? DType.Float32 : typeof(T) == typeof(double) ? DType.Float64
            : typeof(T) == typeof(int) ? DType.Int32 : typeof(T) == typeof(uint) ? DType.UInt32
            : throw new NotSupportedException($"Distributed.AllReduce: element type {typeof(T).Name} is not supported (float, double, int, uint)");
        var kind = op switch { ReduceOp.Sum => MpiCommunicator.Op.Sum, ReduceOp.Max => MpiCommunicator.Op.Max, ReduceOp.Min => MpiCommunicator.Op.Min, _ => throw new ArgumentOutOfRangeException(nameof(op)) };
        Comm.AllReduce(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values), dtype, new Shape(values.Length), kind, $"Distributed.AllReduce ({op})");
    }

    /// <summary>Collectives this process has run (data collectives and barriers; agreement checks not counted).</summary>
    public static long CollectiveCount => Comm.Sequence;

    /// <summary>Time this process spent waiting for collectives (agreement checks included): the
    /// communication share of a step, and the time a fast rank waits for a slow one.</summary>
    public static TimeSpan CollectiveWaitTime => Comm.WaitTime;

    /// <summary>Waits until every process has arrived (with the collective deadline).</summary>
    public static void Barrier() => Comm.Barrier("barrier");

    /// <summary>Rank <paramref name="root"/>'s values of every leaf of <paramref name="tree"/>, on every rank
    /// (eager; e.g. to start all ranks from the same parameters). Leaves keep their backends.</summary>
    public static T Broadcast<T>(T tree, int root = 0)
    {
        var comm = Comm;
        if (root < 0 || root >= comm.Size) throw new ArgumentOutOfRangeException(nameof(root), $"Distributed.Broadcast: root {root} is not a rank of 0..{comm.Size - 1}");
        return Tree.Map(x =>
        {
            var bytes = x.ToBytes();
            comm.Broadcast(bytes, x.DType, x.Shape, root, "broadcast");
            return Tensor.FromBytes(bytes, x.Shape, x.DType, x.Backend);
        }, tree);
    }

    /// <summary>
    /// The mean of every leaf over all processes, with tensor fusion: the leaves are packed into
    /// few buffers (see <see cref="GradientFusion.Pmean{T}"/>). Works eagerly and inside Jit.
    /// </summary>
    public static T AllReduceMean<T>(T tree, long bucketBytes = GradientFusion.DefaultBucketBytes)
        => GradientFusion.Pmean(tree, AxisName, bucketBytes);

    /// <summary>The sum of every leaf over all processes, fused like <see cref="AllReduceMean{T}"/>.</summary>
    public static T AllReduceSum<T>(T tree, long bucketBytes = GradientFusion.DefaultBucketBytes)
        => GradientFusion.Psum(tree, AxisName, bucketBytes);

    /// <summary>
    /// <paramref name="tx"/> with its state sharded over the processes (ZeRO stage 1, PyTorch's
    /// <c>ZeroRedundancyOptimizer</c>): <see cref="ZeroRedundancyOptimizer.Create"/> over
    /// <see cref="AxisName"/>. Give the train step's local gradients to it, not their mean.
    /// </summary>
    public static Stax.Optim.GradientTransformation ShardOptimizer(Stax.Optim.GradientTransformation tx)
        => ZeroRedundancyOptimizer.Create(tx, AxisName);
}
