using System.Diagnostics;
using System.Runtime.InteropServices;
using Stax.Backends;
using Stax.Tracing;

namespace Stax;

/// <summary>
/// An immutable n-dimensional array. A concrete tensor owns a buffer on one backend; a traced
/// tensor (inside Grad, Vmap, Jit, ...) holds a tracer and an abstract value. Every operation
/// goes through <see cref="Primitive.Bind(Params, Tensor[])"/>.
/// </summary>
[DebuggerDisplay("{DebuggerText,nq}")]
public sealed partial class Tensor
{
    /// <summary>Shape, dtype and weak type.</summary>
    public AbstractValue Aval { get; }

    // Not readonly: a JitLoop gives the dead Tensor object of a result it never handed out the next
    // call's value of that result (Rebind) instead of allocating a new one.
    DeviceBuffer? _buffer;
    string? _donatedTo;

    /// <summary>The buffer of a concrete tensor; null when traced. Throws once donated.</summary>
    internal DeviceBuffer? Buffer
    {
        get
        {
            if (_donatedTo != null)
                throw new InvalidOperationException(
                    $"This tensor {Aval} was donated to the jitted function '{_donatedTo}' and can no longer be used; " +
                    "use that call's outputs instead.");
            return _buffer;
        }
    }

    /// <summary>True after the tensor was donated to a jitted call.</summary>
    public bool IsDonated => _donatedTo != null;

    internal void MarkDonated(string function) => _donatedTo = function;

    /// <summary>
    /// Makes this dead tensor hold <paramref name="buffer"/> (a value of the same type); false when
    /// its type is another. Only for a Tensor object nothing outside the library can reach (a
    /// <see cref="JitLoop"/>'s result it never handed out), so no one sees its value change.
    /// </summary>
    internal bool Rebind(DeviceBuffer buffer, AbstractValue aval, bool committed)
    {
        if (!aval.Equals(Aval) || Tracer != null || buffer.Length != aval.Size || buffer.DType != aval.DType) return false;
        _buffer = buffer;
        _donatedTo = null;
        Committed = committed;
        return true;
    }

    /// <summary>Returns the buffer to its backend now and marks the tensor dead (a <see cref="JitLoop"/>'s
    /// result it never handed out, before the next call: the pool then has its memory for that call).</summary>
    internal void ReleaseDead(string function)
    {
        _buffer?.ReleaseNow();
        _donatedTo = function;
    }

    /// <summary>The tracer of a traced tensor; null when concrete.</summary>
    public Tracer? Tracer { get; }

    /// <summary>
    /// False for tensors made from C# scalars (and results computed only from such tensors): like
    /// JAX's uncommitted arrays, they move to the backend of the committed operands they meet.
    /// Mixing committed tensors of two backends is an error.
    /// </summary>
    internal bool Committed { get; set; } = true;

    internal Tensor(DeviceBuffer buffer, AbstractValue aval)
    {
        if (buffer.Length != aval.Size || buffer.DType != aval.DType)
            throw new InvalidOperationException(
                $"Internal error: buffer ({buffer.DType.Name()} x {buffer.Length}) does not match {aval}");
        _buffer = buffer;
        Aval = aval;
    }

    /// <summary>Wraps a tracer (used by interpreters).</summary>
    public Tensor(Tracer tracer)
    {
        Tracer = tracer;
        Aval = tracer.Aval;
    }

    /// <summary>The shape.</summary>
    public Shape Shape => Aval.Shape;
    /// <summary>The element type.</summary>
    public DType DType => Aval.DType;
    /// <summary>True for a weakly typed value (a C# scalar that adopts the other operand's type).</summary>
    public bool IsWeak => Aval.Weak;
    /// <summary>Number of dimensions.</summary>
    public int Rank => Aval.Shape.Rank;
    /// <summary>Number of elements.</summary>
    public long Size => Aval.Shape.Size;
    /// <summary>True when the tensor holds data (not a tracer).</summary>
    public bool IsConcrete => _buffer != null;
    /// <summary>The backend holding the data; throws for a traced tensor.</summary>
    public IBackend Backend => RequireConcrete("Backend").Backend;

    DeviceBuffer RequireConcrete(string what)
    {
        if (Buffer != null) return Buffer;
        throw new InvalidOperationException(
            $"{what} needs a concrete value, but this tensor {Aval} is traced by {Tracer!.Trace.TransformName}. " +
            "Values inside a transformed function are abstract: compute with tensor operations, " +
            "return the value and read it outside, or pass data that decides the program as a static argument.");
    }

    // ---------------- creation from host data ----------------

    /// <summary>Creates a tensor from a flat array and a shape (defaults to 1-D).</summary>
    public static Tensor FromArray<T>(T[] data, params int[] shape) where T : unmanaged
        => From<T>(data, shape.Length == 0 ? new Shape(data.Length) : new Shape(shape));

    /// <summary>Creates a tensor from a span of elements and a shape.</summary>
    public static Tensor From<T>(ReadOnlySpan<T> data, Shape shape, IBackend? backend = null) where T : unmanaged
    {
        var dtype = HostType.Of<T>();
        if (data.Length != shape.Size)
            throw new ArgumentException($"Tensor.From: {data.Length} elements do not fill shape {shape} ({shape.Size} elements)");
        return FromBytes(MemoryMarshal.AsBytes(data), shape, dtype, backend);
    }

    /// <summary>Creates a tensor from a (possibly multidimensional) C# array,
    /// e.g. <c>new float[,] {{1, 2}, {3, 4}}</c>.</summary>
    public static Tensor FromArray(Array array)
    {
        var dtype = HostType.Of(array.GetType().GetElementType()!);
        var dims = new int[array.Rank];
        for (int i = 0; i < dims.Length; i++) dims[i] = array.GetLength(i);
        var bytes = MemoryMarshal.CreateReadOnlySpan(ref MemoryMarshal.GetArrayDataReference(array),
            checked(array.Length * dtype.SizeOf()));
        return FromBytes(bytes, new Shape(dims), dtype, null);
    }

    /// <summary>Creates a tensor from raw little-endian bytes of <paramref name="dtype"/> elements.</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> bytes, Shape shape, DType dtype, IBackend? backend = null)
    {
        dtype.Checked("Tensor.FromBytes");
        if (bytes.Length != shape.Size * dtype.SizeOf())
            throw new ArgumentException($"Tensor.FromBytes: {bytes.Length} bytes do not fill shape {shape} of {dtype.Name()}");
        bool committed = true;
        if (backend == null)
        {
            backend = BackendRegistry.Default;
            // A host array of a dtype the default backend cannot hold (float64 on Vulkan) lives on
            // the CPU, uncommitted: converted there, it then follows the tensors it meets.
            if (!backend.Supports(dtype)) { backend = Backends.Cpu.CpuBackend.Instance; committed = false; }
        }
        if (!backend.Supports(dtype))
            throw new NotSupportedException(
                $"Tensor.FromBytes: dtype {dtype.Name()} is not supported by backend '{backend.Name}'");
        if (dtype == DType.Bool)
            foreach (var b in bytes)
                if (b > 1) throw new ArgumentException("Tensor.FromBytes: bool elements must be 0 or 1");
        return new Tensor(backend.Upload(bytes, dtype), new AbstractValue(shape, dtype)) { Committed = committed };
    }

    /// <summary>A strongly typed scalar of the given dtype (default float32).</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float32) => Uncommitted(Full(Shape.Scalar, value, dtype));

    static Tensor Uncommitted(Tensor t) => new(t.Buffer!, t.Aval) { Committed = false };

    /// <summary>A weakly typed scalar: in <c>x * 2.0</c> the 2.0 takes x's dtype.</summary>
    public static Tensor WeakScalar(double value)
        => new(Full(Shape.Scalar, value, DType.Float32, weak: true).Buffer!, new AbstractValue(Shape.Scalar, DType.Float32, true))
        {
            Committed = false, ExactValue = value
        };

    /// <summary>The exact C# value of a weak float scalar: promotion converts from it, so
    /// <c>x * 0.1</c> on float64 uses 0.1, not 0.1 rounded to float32.</summary>
    internal double? ExactValue { get; init; }

    /// <summary>A weakly typed integer scalar.</summary>
    public static Tensor WeakScalar(int value) => Uncommitted(Full(Shape.Scalar, value, DType.Int32, weak: true));

    /// <summary>Implicit conversion of a C# double to a weakly typed float32 scalar.</summary>
    public static implicit operator Tensor(double value) => WeakScalar(value);
    /// <summary>Implicit conversion of a C# float to a weakly typed float32 scalar.</summary>
    public static implicit operator Tensor(float value) => WeakScalar(value);
    /// <summary>Implicit conversion of a C# int to a weakly typed int32 scalar.</summary>
    public static implicit operator Tensor(int value) => WeakScalar(value);
    /// <summary>Implicit conversion of a C# bool to a bool scalar.</summary>
    public static implicit operator Tensor(bool value) => Uncommitted(Full(Shape.Scalar, value ? 1 : 0, DType.Bool));

    /// <summary>A tensor filled with <paramref name="value"/>, converted to <paramref name="dtype"/> as C# casts do.</summary>
    public static Tensor Full(Shape shape, double value, DType dtype = DType.Float32, bool weak = false, IBackend? backend = null)
    {
        var bytes = GC.AllocateUninitializedArray<byte>(HostBytes("Tensor.Full", shape, dtype.Checked("Tensor.Full")));
        var one = ScalarBytes(value, dtype);
        switch (one.Length)
        {
            case 1: bytes.AsSpan().Fill(one[0]); break;
            case 2: MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()).Fill(BitConverter.ToUInt16(one)); break;
            case 4: MemoryMarshal.Cast<byte, uint>(bytes.AsSpan()).Fill(BitConverter.ToUInt32(one)); break;
            default: MemoryMarshal.Cast<byte, ulong>(bytes.AsSpan()).Fill(BitConverter.ToUInt64(one)); break;
        }
        var t = FromBytes(bytes, shape, dtype, backend);
        return weak ? new Tensor(t.Buffer!, t.Aval with { Weak = true }) : t;
    }

    /// <summary>
    /// The byte size of a host array for <paramref name="shape"/>, or a clear error naming the
    /// operation before anything is allocated when one array cannot hold it.
    /// </summary>
    internal static int HostBytes(string op, Shape shape, DType dtype)
    {
        long bytes = shape.Size > Array.MaxLength ? long.MaxValue : shape.Size * dtype.SizeOf();
        if (bytes > Array.MaxLength)
            throw new OutOfMemoryException(
                $"{op}: shape {shape} of {dtype.Name()} needs {shape.Size * (decimal)dtype.SizeOf()} bytes, " +
                $"more than the {Array.MaxLength}-byte limit of one buffer");
        return (int)bytes;
    }

    static byte[] ScalarBytes(double v, DType dtype) => dtype switch
    {
        DType.Float32 => BitConverter.GetBytes((float)v),
        DType.Float64 => BitConverter.GetBytes(v),
        DType.Float16 => BitConverter.GetBytes((Half)v),
        DType.BFloat16 => BitConverter.GetBytes(((BFloat16)(float)v).Bits),
        DType.Int32 => BitConverter.GetBytes(double.IsNaN(v) ? 0 : (int)Math.Clamp(v, int.MinValue, int.MaxValue)),
        DType.UInt32 => BitConverter.GetBytes(v < 0 ? unchecked((uint)(int)v) : (uint)Math.Min(v, uint.MaxValue)),
        DType.UInt8 => new[] { unchecked((byte)(int)v) },
        DType.Bool => new[] { (byte)(v != 0 ? 1 : 0) },
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, DType dtype = DType.Float32) => Full(shape, 0, dtype);
    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape, DType dtype = DType.Float32) => Full(shape, 1, dtype);

    // ---------------- reading back ----------------

    /// <summary>The raw bytes (row-major). Needs a concrete tensor.</summary>
    public byte[] ToBytes()
    {
        var buf = RequireConcrete("ToBytes");
        var bytes = new byte[buf.ByteLength];
        buf.Backend.Download(buf, bytes);
        return bytes;
    }

    /// <summary>Copies the raw bytes (row-major) into <paramref name="destination"/>, which must hold
    /// exactly <c>Size * DType.SizeOf()</c> bytes (reading back without allocating, e.g. into a
    /// reused transfer buffer). Needs a concrete tensor.</summary>
    public void CopyTo(Span<byte> destination)
    {
        var buf = RequireConcrete("CopyTo");
        if (destination.Length != buf.ByteLength)
            throw new ArgumentException(
                $"CopyTo: the destination has {destination.Length} bytes; " +
                $"the tensor of shape {Shape} and dtype {DType.Name()} has {buf.ByteLength}");
        buf.Backend.Download(buf, destination);
    }

    /// <summary>The elements as a flat row-major array; <typeparamref name="T"/> must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        var want = HostType.Of<T>();
        if (want != DType)
            throw new InvalidOperationException(
                $"ToArray<{typeof(T).Name}>: the tensor's dtype is {DType.Name()}; convert it first with .AsType(DType.{want})");
        var buf = RequireConcrete("ToArray");
        var result = new T[buf.Length];
        buf.Backend.Download(buf, MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The value of a one-element tensor; <typeparamref name="T"/> must match the dtype.</summary>
    public T Item<T>() where T : unmanaged
    {
        if (Size != 1)
            throw new InvalidOperationException($"Item: the tensor has shape {Shape} ({Size} elements), not one element");
        var want = HostType.Of<T>();
        if (want != DType)
            throw new InvalidOperationException(
                $"Item<{typeof(T).Name}>: the tensor's dtype is {DType.Name()}; convert it first with .AsType(DType.{want})");
        var buf = RequireConcrete("Item");
        // Read into a local: a training loop reads its loss every step without allocating.
        T value = default;
        buf.Backend.Download(buf, MemoryMarshal.AsBytes(new Span<T>(ref value)));
        return value;
    }

    /// <summary>The elements converted to double (any dtype), for printing and tests.</summary>
    public double[] ToDoubleArray() => HostConvert.ToDoubles(ToBytes(), DType);

    /// <summary>Copies the tensor to another backend.</summary>
    public Tensor DevicePut(IBackend backend)
    {
        var buf = RequireConcrete("DevicePut");
        if (ReferenceEquals(buf.Backend, backend)) return this;
        return new Tensor(backend.Upload(ToBytes(), DType), Aval);
    }

    /// <summary>A copy on <paramref name="backend"/> that stays uncommitted (it still follows committed operands).</summary>
    internal Tensor DevicePutUncommitted(IBackend backend)
        => new(backend.Upload(ToBytes(), DType), Aval) { Committed = false, ExactValue = ExactValue };

    /// <summary>A C# scalar re-created in <paramref name="dtype"/> from its exact value.</summary>
    internal Tensor WithExactType(DType dtype, bool weak)
    {
        var t = Full(Shape.Scalar, ExactValue!.Value, dtype, weak);
        return new Tensor(t.Buffer!, t.Aval) { Committed = false };
    }

    /// <summary>A copy with a different weak flag (same data).</summary>
    internal Tensor WithWeak(bool weak)
    {
        if (weak == IsWeak) return this;
        if (Buffer != null) return new Tensor(Buffer, Aval with { Weak = weak }) { Committed = Committed };
        return Lax.ConvertElementType(this, DType, weak);
    }

    string DebuggerText => Buffer != null && Size <= 1000 ? ToString() : $"Tensor {Aval}";
}
