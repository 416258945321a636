using Stax.Tracing;

namespace Stax.Extend;

/// <summary>
/// A JVP rule as <c>custom_jvp_call</c> carries it: from the primals and the (instantiated) tangents
/// of ALL the call's inputs (closed-over constants first) to the output primals and tangents.
/// </summary>
public delegate (Tensor[] Primals, Tensor[] Tangents) CustomJvpRule(Tensor[] primals, Tensor[] tangents);

/// <summary>
/// Parameters of <c>custom_jvp_call</c>: the staged program of the user's function (closure-converted:
/// its captured values are the first <paramref name="NumConsts"/> inputs, the program has no
/// constants) and the rule that differentiates it.
/// </summary>
public sealed record CustomJvpParams(string Name, Jaxpr Jaxpr, int NumConsts, CustomJvpRule Jvp) : Params
{
    /// <inheritdoc/>
    public override string ToString()
        => $"name={Name} num_consts={NumConsts} jvp=<custom>\n      call_jaxpr={Jaxpr.ToString().Replace("\n", "\n      ")}";

    /// <summary>Reference equality: one staged program and rule, one parameter set.</summary>
    public bool Equals(CustomJvpParams? other) => ReferenceEquals(this, other);

    /// <inheritdoc/>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);
}

public static partial class Prims
{
    /// <summary>
    /// Calls a function with a user-defined JVP (<see cref="Transforms.CustomJvp(Func{Tensor[], Tensor[]}, Func{Tensor[], Tensor[], ValueTuple{Tensor[], Tensor[]}}, string?)"/>):
    /// evaluation runs the staged program, differentiation runs the rule.
    /// </summary>
    public static readonly Primitive CustomJvpCall = new("custom_jvp_call", PrimitiveFamily.Control, (ins, p) =>
    {
        var cp = (CustomJvpParams)p;
        var want = cp.Jaxpr.InVars;
        if (ins.Length != want.Length)
            throw new ArgumentException($"custom_jvp_call ({cp.Name}): the function takes {want.Length} inputs (including {cp.NumConsts} captured values), got {ins.Length}");
        for (int i = 0; i < ins.Length; i++)
            if (ins[i].Shape != want[i].Aval.Shape || ins[i].DType != want[i].Aval.DType)
                throw new ArgumentException($"custom_jvp_call ({cp.Name}): input {i} has type {ins[i]}, the function was traced for {want[i].Aval}");
        return cp.Jaxpr.OutAvals;
    }, multipleResults: true)
    {
        Impl = (args, p) =>
        {
            CustomJvpCall!.AbstractEval(args.Select(a => a.Aval).ToArray(), p); // the type check eager evaluation skips for Impl rules
            return JaxprEval.Eval(((CustomJvpParams)p).Jaxpr, Array.Empty<Tensor>(), args);
        },
    };
}
