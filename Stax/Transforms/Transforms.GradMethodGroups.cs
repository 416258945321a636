namespace Stax;

// C# cannot infer a generic parameter type from a method group (Grad(Loss) with
// Loss(Dictionary<string, Tensor> p) fails with CS1503), so the common parameter types of a loss
// get non-generic overloads; each forwards to the generic tree version.
public static partial class Transforms
{
    /// <summary><see cref="Grad{T}(Func{T, Tensor})"/> for a loss over an <c>object</c> tree (e.g. a module's parameters), method groups included.</summary>
    public static Func<object, object> Grad(Func<object, Tensor> f) => Grad<object>(f);

    /// <summary><see cref="Grad{T}(Func{T, Tensor})"/> for a loss over named tensors, method groups included.</summary>
    public static Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> Grad(Func<Dictionary<string, Tensor>, Tensor> f)
        => Grad<Dictionary<string, Tensor>>(f);

    /// <summary><see cref="ValueAndGrad{T}(Func{T, Tensor})"/> for an <c>object</c> tree, method groups included.</summary>
    public static Func<object, (Tensor Value, object Grad)> ValueAndGrad(Func<object, Tensor> f) => ValueAndGrad<object>(f);

    /// <summary><see cref="ValueAndGrad{T}(Func{T, Tensor})"/> for named tensors, method groups included.</summary>
    public static Func<Dictionary<string, Tensor>, (Tensor Value, Dictionary<string, Tensor> Grad)> ValueAndGrad(Func<Dictionary<string, Tensor>, Tensor> f)
        => ValueAndGrad<Dictionary<string, Tensor>>(f);

    /// <summary><see cref="Grad{T1, T2}(Func{T1, T2, Tensor})"/> for <c>loss(params, batch)</c>, method groups included.</summary>
    public static Func<object, Tensor, object> Grad(Func<object, Tensor, Tensor> f) => Grad<object, Tensor>(f);

    /// <summary><see cref="Grad{T1, T2}(Func{T1, T2, Tensor})"/> for <c>loss(namedParams, batch)</c>, method groups included.</summary>
    public static Func<Dictionary<string, Tensor>, Tensor, Dictionary<string, Tensor>> Grad(Func<Dictionary<string, Tensor>, Tensor, Tensor> f)
        => Grad<Dictionary<string, Tensor>, Tensor>(f);

    /// <summary><see cref="ValueAndGrad{T1, T2}(Func{T1, T2, Tensor})"/> for <c>loss(params, batch)</c>, method groups included.</summary>
    public static Func<object, Tensor, (Tensor Value, object Grad)> ValueAndGrad(Func<object, Tensor, Tensor> f) => ValueAndGrad<object, Tensor>(f);

    /// <summary><see cref="ValueAndGrad{T1, T2}(Func{T1, T2, Tensor})"/> for <c>loss(namedParams, batch)</c>, method groups included.</summary>
    public static Func<Dictionary<string, Tensor>, Tensor, (Tensor Value, Dictionary<string, Tensor> Grad)> ValueAndGrad(Func<Dictionary<string, Tensor>, Tensor, Tensor> f)
        => ValueAndGrad<Dictionary<string, Tensor>, Tensor>(f);
}
