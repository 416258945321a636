using Stax.Backends.Cpu;

namespace Stax.Distributed;

/// <summary>
/// The ranks of the MPI job as a named axis (see <see cref="IProcessAxis"/>): psum, pmax, pmin,
/// all_gather and psum_scatter over its name run on the host. MPI reduces CPU tensors from their
/// own memory into a new pooled CPU tensor; other backends' tensors are downloaded into a reused
/// host buffer, combined by MPI there and uploaded back to the operand's backend.
/// </summary>
internal sealed class MpiProcessAxis(string name, MpiCommunicator comm) : IProcessAxis
{
    public string Name => name;
    public int Size => comm.Size;
    public int Index => comm.Rank;

    byte[] _staging = Array.Empty<byte>();

    Span<byte> Staging(int bytes)
    {
        if (_staging.Length < bytes) _staging = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        return _staging.AsSpan(0, bytes);
    }

    public Tensor Evaluate(Primitive collective, Tensor operand, Params parameters)
    {
        lock (this) return Run(collective, operand, parameters); // one staging buffer
    }

    /// <summary>
    /// The sums of <paramref name="operands"/> over the ranks (psum_fused). CPU tensors are reduced
    /// from their own buffers straight into new pooled CPU tensors, one blocking all-reduce each,
    /// after one agreement check for the whole call: no staging, packing or unpacking copies. An
    /// operand that <paramref name="dead"/> marks (a compiled program's gradient that nothing reads
    /// afterwards) is summed in place and is its own result. Other backends' tensors (or dtypes MPI
    /// cannot reduce) go one psum at a time through the host.
    /// </summary>
    public Tensor[] EvaluateFused(Tensor[] operands, bool[]? dead = null)
    {
        string what = $"psum_fused over process axis '{name}'";
        lock (this)
        lock (comm.Gate)
        {
            if (!operands.All(x => x.Backend is CpuBackend && Reducible(x.DType)))
                return operands.Select(x => Run(Prims.Psum, x, new CollectiveParams(name))).ToArray();
            comm.VerifyFused(what, operands.Select(x => x.Aval).ToArray());
            if (comm.Size == 1) return operands; // the sum over one process is the operand (a value)
            var outs = new Tensor[operands.Length];
            for (int i = 0; i < operands.Length; i++)
            {
                var x = operands[i];
                var cpu = (CpuBackend)x.Backend;
                if (dead != null && dead[i])
                {
                    comm.AllReduceInPlace(cpu.HostBytes(x), x.DType, MpiCommunicator.Op.Sum, what);
                    outs[i] = x;
                    continue;
                }
                var r = cpu.AllocateUninitialized(x.Shape, x.DType);
                comm.AllReduceInto(cpu.HostBytes(x), cpu.HostBytes(r), x.DType, MpiCommunicator.Op.Sum, what);
                outs[i] = r;
            }
            GC.KeepAlive(operands); // their buffers were read by MPI above
            return outs;
        }
    }

    /// <summary>
    /// psum_scatter_fused: one agreement check, then one MPI_Reduce_scatter per operand from its
    /// buffer into its new 1-D shard's. CPU tensors are read and written in place; other backends'
    /// go through host copies.
    /// </summary>
    public Tensor[] EvaluateScatter(Tensor[] operands, ShardParams p)
    {
        string what = $"psum_scatter_fused over process axis '{name}'";
        lock (this)
        lock (comm.Gate)
        {
            comm.VerifyFused(what, operands.Select(x => x.Aval).ToArray(), MpiCommunicator.Op.FusedScatter);
            var outs = new Tensor[operands.Length];
            for (int i = 0; i < operands.Length; i++)
            {
                var x = operands[i];
                var counts = ShardLayout.Counts(x.Shape.Size, Size);
                outs[i] = Into(x, new Shape(counts[Index]),
                    (send, recv) => comm.ReduceScatterInto(send, recv, counts, x.DType, what));
            }
            GC.KeepAlive(operands);
            return outs;
        }
    }

    /// <summary>all_gather_fused: one agreement check (on the full shapes), then one MPI_Allgatherv per
    /// shard straight into its full-shaped result.</summary>
    public Tensor[] EvaluateGather(Tensor[] shards, ShardParams p)
    {
        string what = $"all_gather_fused over process axis '{name}'";
        lock (this)
        lock (comm.Gate)
        {
            var full = shards.Select((x, i) => x.Aval with { Shape = p.Shapes[i] }).ToArray();
            comm.VerifyFused(what, full, MpiCommunicator.Op.FusedGather);
            var outs = new Tensor[shards.Length];
            for (int i = 0; i < shards.Length; i++)
            {
                int esize = shards[i].DType.SizeOf();
                var bytes = ShardLayout.Counts(p.Shapes[i].Size, Size).Select(c => checked(c * esize)).ToArray();
                outs[i] = Into(shards[i], p.Shapes[i], (send, recv) => comm.AllGatherInto(send, recv, bytes, what));
            }
            GC.KeepAlive(shards);
            return outs;
        }
    }

    delegate void Transfer(ReadOnlySpan<byte> send, Span<byte> receive);

    // A result of `shape` filled by `move` from x's bytes: in place for CPU tensors (a pooled result),
    // through host arrays for other backends.
    static Tensor Into(Tensor x, Shape shape, Transfer move)
    {
        if (x.Backend is CpuBackend cpu)
        {
            var r = cpu.AllocateUninitialized(shape, x.DType);
            move(cpu.HostBytes(x), cpu.HostBytes(r));
            return r;
        }
        var recv = new byte[checked(shape.Size * x.DType.SizeOf())];
        move(x.ToBytes(), recv);
        return Tensor.FromBytes(recv, shape, x.DType, x.Backend);
    }

    static bool Reducible(DType d) => d is DType.Float32 or DType.Float64 or DType.Int32 or DType.UInt32;

    Tensor Run(Primitive collective, Tensor operand, Params parameters)
    {
        string what = $"{collective.Name} over process axis '{name}'";
        var backend = operand.Backend;
        if (collective == Prims.Psum || collective == Prims.Pmax || collective == Prims.Pmin)
        {
            var op = collective == Prims.Psum ? MpiCommunicator.Op.Sum : collective == Prims.Pmax ? MpiCommunicator.Op.Max : MpiCommunicator.Op.Min;
            if (backend is CpuBackend cpu && Reducible(operand.DType))
                lock (comm.Gate)
                {
                    // Straight from the operand's buffer into a new pooled tensor: no staging copies.
                    comm.VerifyCall(what, op, operand.DType, operand.Shape);
                    var r = cpu.AllocateUninitialized(operand.Shape, operand.DType);
                    comm.AllReduceInto(cpu.HostBytes(operand), cpu.HostBytes(r), operand.DType, op, what);
                    GC.KeepAlive(operand);
                    return r;
                }
            // One reused host buffer: a new large array per step costs page faults on every call.
            var staging = Staging(checked((int)(operand.Size * operand.DType.SizeOf())));
            operand.CopyTo(staging);
            comm.AllReduce(staging, operand.DType, operand.Shape, op, what);
            return Tensor.FromBytes(staging, operand.Shape, operand.DType, backend);
        }
        var bytes = operand.ToBytes();
        if (collective == Prims.AllGather)
        {
            var g = (AxisGatherParams)parameters;
            var all = new byte[bytes.Length * Size];
            comm.AllGather(bytes, all, operand.DType, operand.Shape, what);
            var stacked = Tensor.FromBytes(all, new Shape(new[] { Size }.Concat(operand.Shape.ToArray()).ToArray()), operand.DType, backend);
            return g.Dimension == 0 ? stacked : Np.MoveAxis(stacked, 0, g.Dimension);
        }
        if (collective == Prims.PsumScatter)
        {
            var g = (AxisGatherParams)parameters;
            comm.AllReduce(bytes, operand.DType, operand.Shape, MpiCommunicator.Op.Sum, what);
            var sum = Tensor.FromBytes(bytes, operand.Shape, operand.DType, backend);
            return Lax.Squeeze(Lax.SliceInDim(sum, Index, Index + 1, 1, g.Dimension), new[] { g.Dimension });
        }
        throw new NotSupportedException($"{collective.Name} is not a collective a process axis runs");
    }
}
