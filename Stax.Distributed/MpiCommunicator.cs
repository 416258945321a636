using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Stax.Distributed;

/// <summary>
/// MPI_COMM_WORLD with the safety Stax adds around every collective: the call is non-blocking and
/// polled with a deadline (a rank that died or hangs makes the others abort the job with a clear
/// message instead of waiting forever), and, unless disabled, the ranks first all-gather a small
/// description of the call (operation, dtype, shape, sequence number) and refuse to run a
/// collective whose description differs between ranks, before any data buffer is touched.
/// </summary>
internal sealed unsafe class MpiCommunicator
{
    readonly MpiLibrary _mpi;
    readonly object _gate = new(); // MPI_THREAD_SERIALIZED: one MPI call at a time
    long _sequence;

    public MpiCommunicator(MpiLibrary mpi, int rank, int size)
    {
        _mpi = mpi;
        Rank = rank;
        Size = size;
    }

    public int Rank { get; }
    public int Size { get; }
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);
    public bool VerifyCalls { get; set; } = true;
    public AllReduceAlgorithm Algorithm { get; set; } = AllReduceAlgorithm.MpiAllreduce;

    long _waitTicks;

    /// <summary>Time spent waiting for collectives to complete (Stopwatch ticks), all calls so far.</summary>
    public TimeSpan WaitTime => TimeSpan.FromSeconds(Interlocked.Read(ref _waitTicks) / (double)Stopwatch.Frequency);

    /// <summary>Collectives run so far (each rank counts the same when the programs agree).</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    public enum Op
    {
        Sum = 1, Max = 2, Min = 3, Gather = 4, Broadcast = 5, Barrier = 6, FusedSum = 7, FusedScatter = 8, FusedGather = 9,
    }

    static string OpName(long op) => op switch
    {
        1 => "sum", 2 => "max", 3 => "min", 4 => "all_gather", 5 => "broadcast", 6 => "barrier", 7 => "fused sum",
        8 => "fused sum-scatter", 9 => "fused all-gather",
        _ => $"op {op}",
    };

    // A call's description: op, dtype, element count, rank, first four dims, sequence number. A
    // fused sum (several tensors) puts the tensor count where the rank goes and a fingerprint of
    // every tensor's dtype and shape where the dims go.
    const int DescLongs = 9;

    void Verify(string what, Op op, DType dtype, Shape shape, long seq)
    {
        if (!VerifyCalls || Size == 1) return;
        var mine = new long[DescLongs];
        mine[0] = (long)op; mine[1] = (long)dtype; mine[2] = shape.Size; mine[3] = shape.Rank;
        for (int i = 0; i < 4; i++) mine[4 + i] = i < shape.Rank ? shape[i] : -1;
        mine[8] = seq;
        Agree(what, mine);
    }

    /// <summary>The agreement check of one collective on a tensor of <paramref name="shape"/>
    /// (counts as one collective); the data moves next, e.g. with <see cref="AllReduceInto"/>.</summary>
    public void VerifyCall(string what, Op op, DType dtype, Shape shape)
    {
        lock (_gate) Verify(what, op, dtype, shape, Interlocked.Increment(ref _sequence));
    }

    /// <summary>The agreement check of a fused collective (<see cref="Op.FusedSum"/>, <see cref="Op.FusedScatter"/>
    /// or <see cref="Op.FusedGather"/>) of <paramref name="operands"/>, one check for all of them
    /// (for a gather, the full results' types, which every rank knows alike); counts as one collective.</summary>
    public void VerifyFused(string what, IReadOnlyList<AbstractValue> operands, Op op = Op.FusedSum)
    {
        lock (_gate)
        {
            long seq = Interlocked.Increment(ref _sequence);
            if (!VerifyCalls || Size == 1) return;
            // FNV-1a over every operand's dtype, rank and dimensions.
            ulong h = 14695981039346656037UL;
            void Mix(long v) { h = (h ^ (ulong)v) * 1099511628211UL; }
            long total = 0;
            foreach (var a in operands)
            {
                Mix((long)a.DType); Mix(a.Shape.Rank);
                for (int d = 0; d < a.Shape.Rank; d++) Mix(a.Shape[d]);
                total += a.Shape.Size;
            }
            var mine = new long[DescLongs];
            mine[0] = (long)op; mine[1] = operands.Count > 0 ? (long)operands[0].DType : -1;
            mine[2] = total; mine[3] = operands.Count;
            mine[4] = (long)h; mine[5] = mine[6] = mine[7] = -1;
            mine[8] = seq;
            Agree(what, mine);
        }
    }

    long _checkTicks;

    /// <summary>Time spent in agreement checks (Stopwatch ticks included in <see cref="WaitTime"/>), all calls so far.</summary>
    public TimeSpan CheckTime => TimeSpan.FromSeconds(Interlocked.Read(ref _checkTicks) / (double)Stopwatch.Frequency);

    void Agree(string what, long[] mine)
    {
        long t0 = Stopwatch.GetTimestamp();
        var all = new long[DescLongs * Size];
        fixed (long* s = mine)
        fixed (long* r = all)
        {
            nint req;
            Check(_mpi.Iallgather(s, DescLongs * 8, _mpi.Byte, r, DescLongs * 8, _mpi.Byte, _mpi.CommWorld, &req),
                  what, "MPI_Iallgather");
            Wait(&req, what);
        }
        Interlocked.Add(ref _checkTicks, Stopwatch.GetTimestamp() - t0);
        bool same = true;
        for (int k = 1; k < Size && same; k++)
            for (int i = 0; i < DescLongs; i++)
                if (all[k * DescLongs + i] != all[i]) { same = false; break; }
        if (same) return;
        var lines = Enumerable.Range(0, Size).Select(k => $"rank {k}: {Describe(all.AsSpan(k * DescLongs, DescLongs))}");
        throw new ArgumentException(
            $"{what}: the processes disagree on this collective, so it was not run "
            + $"(the ranks run different programs or shapes): {string.Join("; ", lines)}");
    }

    static string Describe(ReadOnlySpan<long> desc)
    {
        var d = desc.ToArray();
        if (d[0] is (long)Op.FusedSum or (long)Op.FusedScatter or (long)Op.FusedGather)
            return $"{(d[0] == (long)Op.FusedSum ? "sum" : OpName(d[0]))} of {d[3]} tensors of {((DType)d[1]).Name()}, "
                + $"{d[2]} elements in all "
                + $"(shapes fingerprint {(ulong)d[4]:x16}) (collective #{d[8]})";
        var dims = string.Join(",", Enumerable.Range(0, (int)Math.Min(d[3], 4))
                .Select(i => d[4 + i].ToString(System.Globalization.CultureInfo.InvariantCulture)))
            + (d[3] > 4 ? ",..." : "");
        return $"{OpName(d[0])} of {((DType)d[1]).Name()}[{dims}] (collective #{d[8]})";
    }

    nint TypeOf(string what, DType dtype) => dtype switch
    {
        DType.Float32 => _mpi.Float,
        DType.Float64 => _mpi.Double,
        DType.Int32 => _mpi.Int,
        DType.UInt32 => _mpi.Unsigned,
        _ => throw new NotSupportedException(
            $"{what}: dtype {dtype.Name()} cannot be reduced across processes (float32, float64, int32 and uint32 can)"),
    };

    /// <summary>Combines <paramref name="data"/> (elements of <paramref name="dtype"/>, logical shape
    /// <paramref name="shape"/>) over all ranks in place.</summary>
    public void AllReduce(Span<byte> data, DType dtype, Shape shape, Op op, string what)
    {
        lock (_gate)
        {
            var type = TypeOf(what, dtype);
            Verify(what, op, dtype, shape, Interlocked.Increment(ref _sequence));
            if (Size == 1) return;
            fixed (byte* p = data) Reduce(MpiLibrary.InPlace, p, Count(what, data.Length, dtype), type, op, what);
        }
    }

    /// <summary>
    /// Combines <paramref name="send"/> over all ranks into <paramref name="receive"/> (same length,
    /// not overlapping) with no agreement check of its own: one part of a collective whose
    /// description <see cref="VerifyFused"/> has just checked (hold <see cref="Gate"/> across both).
    /// </summary>
    public void AllReduceInto(ReadOnlySpan<byte> send, Span<byte> receive, DType dtype, Op op, string what)
    {
        if (send.Length != receive.Length)
            throw new ArgumentException($"{what}: send buffer has {send.Length} bytes, receive buffer {receive.Length}");
        lock (_gate)
        {
            var type = TypeOf(what, dtype);
            if (Size == 1) { send.CopyTo(receive); return; }
            fixed (byte* s = send)
            fixed (byte* r = receive)
                Reduce(s, r, Count(what, send.Length, dtype), type, op, what);
        }
    }

    /// <summary>Like <see cref="AllReduceInto"/> (no agreement check of its own), combining
    /// <paramref name="data"/> over all ranks in place: about a third of the time of a reduction
    /// into another buffer here (no second buffer to write and bring into the caches).</summary>
    public void AllReduceInPlace(Span<byte> data, DType dtype, Op op, string what)
    {
        lock (_gate)
        {
            var type = TypeOf(what, dtype);
            if (Size == 1) return;
            fixed (byte* p = data) Reduce(MpiLibrary.InPlace, p, Count(what, data.Length, dtype), type, op, what);
        }
    }

    /// <summary>
    /// Sums <paramref name="send"/> (every rank's whole tensor) over all ranks and keeps this rank's
    /// part, <paramref name="counts"/>[rank] elements from the offset of the counts before it, in
    /// <paramref name="receive"/> (MPI_Reduce_scatter). Like <see cref="AllReduceInto"/>, one part of
    /// a collective that <see cref="VerifyFused"/> has just checked (hold <see cref="Gate"/>).
    /// </summary>
    public void ReduceScatterInto(ReadOnlySpan<byte> send, Span<byte> receive, int[] counts, DType dtype, string what)
    {
        long esize = dtype.SizeOf();
        if (counts.Length != Size || counts.Sum(c => (long)c) * esize != send.Length || counts[Rank] * esize != receive.Length)
            throw new ArgumentException($"{what}: buffers of {send.Length} and {receive.Length} bytes do not match the "
                + $"counts [{string.Join(", ", counts)}] of {dtype.Name()} on rank {Rank} of {Size}");
        lock (_gate)
        {
            var type = TypeOf(what, dtype);
            if (Size == 1) { send.CopyTo(receive); return; }
            fixed (byte* s = send)
            fixed (byte* r = receive)
            fixed (int* c = counts)
            {
                if (VerifyCalls)
                {
                    // Every rank is inside this checked collective: the blocking call (see Reduce).
                    long t0 = Stopwatch.GetTimestamp();
                    Check(_mpi.ReduceScatter(s, r, c, type, _mpi.OpSum, _mpi.CommWorld), what, "MPI_Reduce_scatter");
                    Interlocked.Add(ref _waitTicks, Stopwatch.GetTimestamp() - t0);
                    return;
                }
                nint req;
                Check(_mpi.IreduceScatter(s, r, c, type, _mpi.OpSum, _mpi.CommWorld, &req), what, "MPI_Ireduce_scatter");
                Wait(&req, what);
            }
        }
    }

    /// <summary>
    /// Every rank's <paramref name="send"/> (<paramref name="byteCounts"/>[k] bytes from rank k) into
    /// <paramref name="receive"/>, in rank order (MPI_Allgatherv): the inverse of
    /// <see cref="ReduceScatterInto"/>'s split. One part of a checked fused collective (hold <see cref="Gate"/>).
    /// </summary>
    public void AllGatherInto(ReadOnlySpan<byte> send, Span<byte> receive, int[] byteCounts, string what)
    {
        if (byteCounts.Length != Size || byteCounts.Sum(c => (long)c) != receive.Length || byteCounts[Rank] != send.Length)
            throw new ArgumentException($"{what}: buffers of {send.Length} and {receive.Length} bytes do not match the "
                + $"byte counts [{string.Join(", ", byteCounts)}] on rank {Rank} of {Size}");
        lock (_gate)
        {
            if (Size == 1) { send.CopyTo(receive); return; }
            var displs = new int[Size];
            for (int k = 1; k < Size; k++) displs[k] = displs[k - 1] + byteCounts[k - 1];
            fixed (byte* s = send)
            fixed (byte* r = receive)
            fixed (int* c = byteCounts)
            fixed (int* d = displs)
            {
                if (VerifyCalls)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Check(_mpi.Allgatherv(s, send.Length, _mpi.Byte, r, c, d, _mpi.Byte, _mpi.CommWorld), what, "MPI_Allgatherv");
                    Interlocked.Add(ref _waitTicks, Stopwatch.GetTimestamp() - t0);
                    return;
                }
                nint req;
                Check(_mpi.Iallgatherv(s, send.Length, _mpi.Byte, r, c, d, _mpi.Byte, _mpi.CommWorld, &req),
                      what, "MPI_Iallgatherv");
                Wait(&req, what);
            }
        }
    }

    /// <summary>The lock that serializes this process's MPI calls (MPI_THREAD_SERIALIZED); held
    /// across a fused collective's check and its parts so that no other collective runs between them.</summary>
    public object Gate => _gate;

    static int Count(string what, int bytes, DType dtype)
    {
        long count = bytes / dtype.SizeOf();
        if (count > int.MaxValue) throw new NotSupportedException($"{what}: {count} elements exceed MPI's int count");
        return (int)count;
    }

    // send is MPI_IN_PLACE for an in-place reduction of recv.
    void Reduce(void* send, byte* recv, int count, nint type, Op op, string what)
    {
        var mpiOp = op switch
        {
            Op.Sum => _mpi.OpSum, Op.Max => _mpi.OpMax, Op.Min => _mpi.OpMin,
            _ => throw new ArgumentOutOfRangeException(nameof(op)),
        };
        nint req;
        if (Algorithm == AllReduceAlgorithm.MpiAllreduce && VerifyCalls)
        {
            // The agreement check just completed within the deadline, so every rank is in
            // this same call: the blocking all-reduce (Open MPI's tuned algorithms, several
            // times faster than the schedule-based MPI_Iallreduce for 4 KB-4 MB here) cannot
            // wait on a missing rank; a rank dying mid-transfer ends the job through mpirun.
            long t0 = Stopwatch.GetTimestamp();
            Check(_mpi.Allreduce(send, recv, count, type, mpiOp, _mpi.CommWorld), what, "MPI_Allreduce");
            Interlocked.Add(ref _waitTicks, Stopwatch.GetTimestamp() - t0);
        }
        else if (Algorithm == AllReduceAlgorithm.MpiAllreduce)
        {
            Check(_mpi.Iallreduce(send, recv, count, type, mpiOp, _mpi.CommWorld, &req), what, "MPI_Iallreduce");
            Wait(&req, what);
        }
        else
        {
            // The root reduces into recv (in place when send is MPI_IN_PLACE); the others send
            // (their receive buffer is ignored), then the root's result is broadcast into recv.
            void* mine = send == MpiLibrary.InPlace ? recv : send;
            Check(_mpi.Ireduce(Rank == 0 ? send : mine, Rank == 0 ? recv : null, count, type, mpiOp, 0, _mpi.CommWorld, &req),
                  what, "MPI_Ireduce");
            Wait(&req, what);
            Check(_mpi.Ibcast(recv, count, type, 0, _mpi.CommWorld, &req), what, "MPI_Ibcast");
            Wait(&req, what);
        }
    }

    /// <summary>Every rank's <paramref name="send"/> bytes, in rank order, into <paramref name="receive"/>.</summary>
    public void AllGather(ReadOnlySpan<byte> send, Span<byte> receive, DType dtype, Shape shape, string what)
    {
        if (receive.Length != send.Length * Size)
            throw new ArgumentException($"{what}: receive buffer has {receive.Length} bytes, expected {send.Length * Size}");
        lock (_gate)
        {
            Verify(what, Op.Gather, dtype, shape, Interlocked.Increment(ref _sequence));
            if (Size == 1) { send.CopyTo(receive); return; }
            fixed (byte* s = send)
            fixed (byte* r = receive)
            {
                nint req;
                Check(_mpi.Iallgather(s, send.Length, _mpi.Byte, r, send.Length, _mpi.Byte, _mpi.CommWorld, &req),
                      what, "MPI_Iallgather");
                Wait(&req, what);
            }
        }
    }

    /// <summary>Rank <paramref name="root"/>'s bytes to every rank.</summary>
    public void Broadcast(Span<byte> data, DType dtype, Shape shape, int root, string what)
    {
        lock (_gate)
        {
            Verify(what, Op.Broadcast, dtype, shape, Interlocked.Increment(ref _sequence));
            if (Size == 1) return;
            fixed (byte* p = data)
            {
                nint req;
                Check(_mpi.Ibcast(p, data.Length, _mpi.Byte, root, _mpi.CommWorld, &req), what, "MPI_Ibcast");
                Wait(&req, what);
            }
        }
    }

    /// <summary>Waits until every rank has arrived.</summary>
    public void Barrier(string what)
    {
        lock (_gate)
        {
            Verify(what, Op.Barrier, DType.UInt8, Shape.Scalar, Interlocked.Increment(ref _sequence));
            if (Size == 1) return;
            nint req;
            Check(_mpi.Ibarrier(_mpi.CommWorld, &req), what, "MPI_Ibarrier");
            Wait(&req, what);
        }
    }

    void Check(int rc, string what, string call)
    {
        if (rc != MpiLibrary.Success)
            throw new InvalidOperationException($"{what}: {call} failed with MPI error code {rc} on rank {Rank} of {Size}");
    }

    /// <summary>
    /// Polls the request until it completes or the deadline passes; then the job is aborted
    /// (MPI_Abort ends every rank: the others may be blocked in the same collective, and a
    /// request left pending cannot be cancelled safely).
    /// </summary>
    void Wait(nint* req, string what)
    {
        var clock = Stopwatch.StartNew();
        int flag = 0;
        for (long spin = 0; ; spin++)
        {
            Check(_mpi.Test(req, &flag, null), what, "MPI_Test");
            if (flag != 0) { Interlocked.Add(ref _waitTicks, clock.ElapsedTicks); return; }
            // A non-blocking collective advances only inside MPI_Test, so keep polling; yield the
            // core now and then (ranks may share cores with each other and with compute threads).
            // Sleep only after a second of waiting (a slow or stuck rank): a sleep per poll would
            // add a scheduler tick to every round of a large, pipelined all-reduce.
            if ((spin & 63) != 63) continue;
            var waited = clock.Elapsed;
            if (waited > Timeout) Fail(what);
            if (waited < TimeSpan.FromSeconds(1)) Thread.Yield(); else Thread.Sleep(1);
        }
    }

    void Fail(string what)
    {
        var msg = $"Stax.Distributed: {what} did not complete within {Timeout.TotalSeconds:0.#} s on rank {Rank} of {Size} " +
                  "(another rank died, hangs, or runs a different program); aborting the MPI job.";
        Console.Out.Flush();
        Console.Error.WriteLine(msg);
        Console.Error.Flush();
        _mpi.Abort(_mpi.CommWorld, 3);
        throw new TimeoutException(msg); // not reached: MPI_Abort ends the process
    }
}
