using System.Runtime.Intrinsics;

namespace Stax.Backends.Cpu.Simd;

// Operator interfaces in the style of TensorPrimitives: an operator is a struct with static
// Invoke overloads for a scalar and for each vector width; the drivers (Drivers.cs) own the loop,
// the tail, threading and the ISA dispatch. Operators that have no vector form leave
// Vectorizable false and the drivers run their scalar Invoke on every path.

/// <summary>y = f(x), same element type.</summary>
internal interface IUnaryOp<T> where T : unmanaged
{
    static virtual bool Vectorizable => false;
    static abstract T Invoke(T x);
    static virtual Vector128<T> Invoke(Vector128<T> x) => throw new NotSupportedException();
    static virtual Vector256<T> Invoke(Vector256<T> x) => throw new NotSupportedException();
    static virtual Vector512<T> Invoke(Vector512<T> x) => throw new NotSupportedException();
}

/// <summary>z = f(x, y), same element type.</summary>
internal interface IBinaryOp<T> where T : unmanaged
{
    static virtual bool Vectorizable => false;
    static abstract T Invoke(T x, T y);
    static virtual Vector128<T> Invoke(Vector128<T> x, Vector128<T> y) => throw new NotSupportedException();
    static virtual Vector256<T> Invoke(Vector256<T> x, Vector256<T> y) => throw new NotSupportedException();
    static virtual Vector512<T> Invoke(Vector512<T> x, Vector512<T> y) => throw new NotSupportedException();
}

/// <summary>
/// A binary operator that reductions fold with: associative, with an identity (sum, product,
/// max, min). The same operator structs serve elementwise kernels, fused chains and reductions.
/// </summary>
internal interface IAggregation<T> : IBinaryOp<T> where T : unmanaged
{
    /// <summary>The value that leaves any operand unchanged (the result of an empty reduction).</summary>
    static abstract T Identity { get; }
}

/// <summary>A predicate of one element: the vector forms return all-ones / all-zeros lane masks.</summary>
internal interface IUnaryPredicate<T> where T : unmanaged
{
    static abstract bool Invoke(T x);
    static abstract Vector128<T> Invoke(Vector128<T> x);
    static abstract Vector256<T> Invoke(Vector256<T> x);
    static abstract Vector512<T> Invoke(Vector512<T> x);
}

/// <summary>A comparison: the vector forms return all-ones / all-zeros lane masks.</summary>
internal interface IComparison<T> where T : unmanaged
{
    static abstract bool Invoke(T x, T y);
    static abstract Vector128<T> Invoke(Vector128<T> x, Vector128<T> y);
    static abstract Vector256<T> Invoke(Vector256<T> x, Vector256<T> y);
    static abstract Vector512<T> Invoke(Vector512<T> x, Vector512<T> y);
}
