namespace Stax.Distributed;

/// <summary>
/// The ranks of the MPI job as a named axis (see <see cref="IProcessAxis"/>): psum, pmax, pmin,
/// all_gather and psum_scatter over its name run on the host, so tensors of any backend are
/// downloaded, combined by MPI and uploaded back to the operand's backend.
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

    Tensor Run(Primitive collective, Tensor operand, Params parameters)
    {
        string what = $"{collective.Name} over process axis '{name}'";
        var backend = operand.Backend;
        if (collective == Prims.Psum || collective == Prims.Pmax || collective == Prims.Pmin)
        {
            var op = collective == Prims.Psum ? MpiCommunicator.Op.Sum : collective == Prims.Pmax ? MpiCommunicator.Op.Max : MpiCommunicator.Op.Min;
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
