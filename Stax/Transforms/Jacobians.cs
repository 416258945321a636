namespace Stax;

public static partial class Transforms
{
    /// <summary>
    /// The Jacobian of <paramref name="f"/> by forward mode: one JVP per input basis vector, all at
    /// once under <see cref="Vmap{TIn, TOut}(Func{TIn, TOut}, int?, int?)"/> (no loop). The result has
    /// shape <c>out.shape + in.shape</c>, as <c>jax.jacfwd</c>. Efficient when the input is smaller
    /// than the output. The input must be floating point.
    /// </summary>
    public static Func<Tensor, Tensor> Jacfwd(Func<Tensor, Tensor> f) => x =>
    {
        RequireFloat(x, "Jacfwd", "input");
        var basis = Basis(x.Shape, x.DType);
        // Columns J e_k with the basis index last: shape out.shape + (n,).
        var cols = Vmap(t => Jvp(f, x, t).Tangent, inAxis: 0, outAxis: -1)(basis);
        var outDims = cols.Shape.ToArray()[..^1];
        return Lax.Reshape(cols, new Shape(outDims.Concat(x.Shape.ToArray()).ToArray()));
    };

    /// <summary>
    /// The Jacobian of <paramref name="f"/> by reverse mode: one linearization, then the pullback of
    /// every output basis vector at once under Vmap. Shape <c>out.shape + in.shape</c>, as
    /// <c>jax.jacrev</c>. Efficient when the output is smaller than the input.
    /// </summary>
    public static Func<Tensor, Tensor> Jacrev(Func<Tensor, Tensor> f) => x =>
    {
        RequireFloat(x, "Jacrev", "input");
        var (ys, pullback) = Vjp(xs => new[] { f(xs[0]) }, new[] { x });
        var y = ys[0];
        RequireFloat(y, "Jacrev", "output");
        var basis = Basis(y.Shape, y.DType);
        // Rows e_kᵀ J with the basis index first: shape (m,) + in.shape.
        var rows = Vmap(ct => pullback(new[] { ct })[0], inAxis: 0, outAxis: 0)(basis);
        return Lax.Reshape(rows, new Shape(y.Shape.ToArray().Concat(x.Shape.ToArray()).ToArray()));
    };

    /// <summary>
    /// The Hessian of a scalar function: <c>Jacfwd(Jacrev(f))</c> (forward over reverse, as
    /// <c>jax.hessian</c>). Shape <c>in.shape + in.shape</c> for a scalar output.
    /// </summary>
    public static Func<Tensor, Tensor> Hessian(Func<Tensor, Tensor> f) => Jacfwd(Jacrev(f));

    /// <summary>The n standard basis vectors of a space of shape <paramref name="shape"/>, stacked: shape (n,) + shape.</summary>
    static Tensor Basis(Shape shape, DType dtype)
    {
        int n = checked((int)shape.Size);
        var eye = Np.Eye(n, dtype: dtype);
        return Lax.Reshape(eye, new Shape(new[] { n }.Concat(shape.ToArray()).ToArray()));
    }

    static void RequireFloat(Tensor x, string who, string what)
    {
        if (!x.DType.IsFloat())
            throw new ArgumentException($"{who}: the {what} has dtype {x.DType.Name()} ({x.Aval}); Jacobians need floating-point {what}s");
    }
}
