namespace Stax;

public sealed partial class Tensor
{
    /// <summary>x + y (broadcasting, promotion).</summary>
    public static Tensor operator +(Tensor x, Tensor y) => Np.Add(x, y);
    /// <summary>x - y.</summary>
    public static Tensor operator -(Tensor x, Tensor y) => Np.Subtract(x, y);
    /// <summary>x * y.</summary>
    public static Tensor operator *(Tensor x, Tensor y) => Np.Multiply(x, y);
    /// <summary>True division (integers promote to float).</summary>
    public static Tensor operator /(Tensor x, Tensor y) => Np.Divide(x, y);
    /// <summary>Remainder with the sign of y, as Python's and jnp's <c>%</c> (<see cref="Np.Remainder"/>).</summary>
    public static Tensor operator %(Tensor x, Tensor y) => Np.Remainder(x, y);
    /// <summary>-x.</summary>
    public static Tensor operator -(Tensor x) => Lax.Neg(x);
    /// <summary>Logical not (bool) or bitwise not (integers).</summary>
    public static Tensor operator !(Tensor x) => Lax.Not(x);
    /// <summary>Logical/bitwise and.</summary>
    public static Tensor operator &(Tensor x, Tensor y) => Np.BitwiseAnd(x, y);
    /// <summary>Logical/bitwise or.</summary>
    public static Tensor operator |(Tensor x, Tensor y) => Np.BitwiseOr(x, y);
    /// <summary>Logical/bitwise xor.</summary>
    public static Tensor operator ^(Tensor x, Tensor y) => Np.BitwiseXor(x, y);
    /// <summary>Elementwise x &lt; y (a bool tensor).</summary>
    public static Tensor operator <(Tensor x, Tensor y) => Np.Less(x, y);
    /// <summary>Elementwise x &gt; y.</summary>
    public static Tensor operator >(Tensor x, Tensor y) => Np.Greater(x, y);
    /// <summary>Elementwise x &lt;= y.</summary>
    public static Tensor operator <=(Tensor x, Tensor y) => Np.LessEqual(x, y);
    /// <summary>Elementwise x &gt;= y.</summary>
    public static Tensor operator >=(Tensor x, Tensor y) => Np.GreaterEqual(x, y);

    // == and != are elementwise, as in NumPy/JAX, so that Np.Mean(pred == target) is an accuracy.
    // A C# bool converts to a Tensor, so without them `a == b` would silently compare references.

    /// <summary>
    /// Elementwise x == y (a bool tensor), as NumPy and JAX. Comparing with <c>null</c> compares
    /// references and gives a scalar bool (so <c>if (t == null)</c> still works); prefer <c>is null</c>.
    /// </summary>
    public static Tensor operator ==(Tensor? x, Tensor? y)
        => x is null || y is null ? ReferenceEquals(x, y) : Np.Equal(x, y);
    /// <summary>Elementwise x != y (a bool tensor); see <see cref="op_Equality"/> for <c>null</c>.</summary>
    public static Tensor operator !=(Tensor? x, Tensor? y)
        => x is null || y is null ? !ReferenceEquals(x, y) : Np.NotEqual(x, y);

    /// <summary>Reference identity (== is elementwise; dictionaries and sets key tensors by identity).</summary>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    /// <summary>The identity hash code, consistent with <see cref="Equals(object?)"/>.</summary>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    /// <summary>
    /// Using a tensor as a C# condition needs a concrete one-element bool; inside a transformation
    /// this fails with an error that explains why (use Np.Where or Lax.Select instead).
    /// </summary>
    public static bool operator true(Tensor x) => x.ToBool("if/&&/||");
    /// <summary>See <see cref="op_True"/>.</summary>
    public static bool operator false(Tensor x) => !x.ToBool("if/&&/||");

    /// <summary>Elementwise equality as a bool tensor (the same as ==).</summary>
    public Tensor Eq(Tensor other) => Np.Equal(this, other);
    /// <summary>Elementwise inequality as a bool tensor.</summary>
    public Tensor Ne(Tensor other) => Np.NotEqual(this, other);
    /// <summary>Converts to <paramref name="dtype"/>.</summary>
    public Tensor AsType(DType dtype) => Np.AsType(this, dtype);
    /// <summary>Row-major reshape; one dimension may be -1.</summary>
    public Tensor Reshape(params int[] shape) => Np.Reshape(this, shape);

    internal bool ToBool(string what)
    {
        if (Tracer != null)
            throw new InvalidOperationException(
                $"{what}: the truth value of a traced tensor {Aval} is not known while tracing under {Tracer.Trace.TransformName}. " +
                "C# control flow runs at trace time; use Np.Where / Lax.Select for data-dependent choices, or pass the deciding value as a static argument.");
        if (Size != 1) throw new InvalidOperationException($"{what}: the truth value of a tensor with shape {Shape} is ambiguous; use Np.Any or Np.All");
        return ToDoubleArray()[0] != 0;
    }
}
