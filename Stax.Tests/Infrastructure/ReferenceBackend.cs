using Stax.Backends;
using Stax.Tests.Reference;

namespace Stax.Tests.Infrastructure;

/// <summary>
/// A deliberately different backend: buffers are opaque handles into a private store (no spans
/// exposed), kernels are the naive reference evaluator, and every kernel call is counted. It keeps
/// the IBackend contract honest and lets tests prove that abstract evaluation runs no kernel.
/// </summary>
public sealed class ReferenceBackend : IBackend
{
    sealed class Handle(ReferenceBackend owner, DType dtype, long length, int id) : DeviceBuffer(owner, dtype, length)
    {
        public readonly int Id = id;
    }

    readonly Dictionary<int, RefArray> _store = new();
    int _next;
    long _kernelCalls;

    public string Name => "reference";

    /// <summary>Number of primitives executed so far.</summary>
    public long KernelCalls => Interlocked.Read(ref _kernelCalls);

    public bool Supports(DType dtype) => true;

    public DeviceBuffer Upload(ReadOnlySpan<byte> data, DType dtype)
    {
        var arr = RefArray.FromBytes(data, new[] { data.Length / dtype.SizeOf() }, dtype);
        return Store(arr);
    }

    Handle Store(RefArray a)
    {
        lock (_store)
        {
            var h = new Handle(this, a.DType, a.Size, _next++);
            _store[h.Id] = a;
            return h;
        }
    }

    RefArray Load(DeviceBuffer b)
    {
        if (b is not Handle h || !ReferenceEquals(h.Backend, this))
            throw new ArgumentException($"reference backend: buffer belongs to '{b.Backend.Name}'");
        lock (_store) return _store[h.Id];
    }

    public void Download(DeviceBuffer buffer, Span<byte> destination) => Load(buffer).ToBytes().CopyTo(destination);

    public DeviceBuffer[] Execute(Primitive primitive, Params parameters, ReadOnlySpan<DeviceBuffer> inputs,
        ReadOnlySpan<AbstractValue> inputTypes, ReadOnlySpan<AbstractValue> outputTypes)
    {
        Interlocked.Increment(ref _kernelCalls);
        var ins = new RefArray[inputs.Length];
        for (int i = 0; i < ins.Length; i++)
        {
            var a = Load(inputs[i]);
            ins[i] = a with { Shape = inputTypes[i].Shape.ToArray() };
        }
        var outs = Ref.Run(primitive, parameters, ins, outputTypes.ToArray());
        return outs.Select(Store).ToArray<DeviceBuffer>();
    }
}
