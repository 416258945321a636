using System.Collections.Concurrent;

namespace Stax.Extend;

/// <summary>
/// A named axis whose members are outside this process, such as the ranks of an MPI job. Once
/// bound with <see cref="ProcessAxes.Bind"/>, the collectives (<see cref="Transforms.Psum"/>,
/// <see cref="Transforms.Pmean"/>, <see cref="Transforms.Pmax"/>, <see cref="Transforms.Pmin"/>,
/// <see cref="Transforms.AllGather"/>, <see cref="Transforms.PsumScatter"/>,
/// <see cref="Transforms.AxisIndex"/>, <see cref="Transforms.AxisSize"/>) accept its name where no
/// enclosing Vmap binds it: this process is one member and the others are combined by
/// <see cref="Evaluate"/>. A Vmap with the same name shadows the process axis inside it.
/// </summary>
public interface IProcessAxis
{
    /// <summary>The axis name the collectives refer to.</summary>
    string Name { get; }

    /// <summary>The number of members (processes).</summary>
    int Size { get; }

    /// <summary>This process's position along the axis, 0 to <see cref="Size"/> - 1.</summary>
    int Index { get; }

    /// <summary>
    /// Runs a collective on this member's concrete operand and returns this member's result:
    /// <paramref name="collective"/> is one of <c>Prims.Psum</c>, <c>Prims.Pmax</c>, <c>Prims.Pmin</c>,
    /// <c>Prims.AllGather</c>, <c>Prims.PsumScatter</c>, with their parameters. Called when the
    /// primitive is evaluated, eagerly or by a compiled program, so every member must reach the
    /// same collectives in the same order.
    /// </summary>
    Tensor Evaluate(Primitive collective, Tensor operand, Params parameters);
}

/// <summary>The registry of process axes (axis names bound outside any Vmap).</summary>
public static class ProcessAxes
{
    static readonly ConcurrentDictionary<string, IProcessAxis> Axes = new();

    /// <summary>Makes <paramref name="axis"/>'s name usable by the collectives outside any Vmap
    /// until the returned handle is disposed. Throws when the name is already bound.</summary>
    public static IDisposable Bind(IProcessAxis axis)
    {
        ArgumentNullException.ThrowIfNull(axis);
        if (axis.Size < 1) throw new ArgumentException($"process axis '{axis.Name}': size must be at least 1, got {axis.Size}");
        if (axis.Index < 0 || axis.Index >= axis.Size)
            throw new ArgumentException($"process axis '{axis.Name}': index {axis.Index} is outside 0..{axis.Size - 1}");
        if (!Axes.TryAdd(axis.Name, axis))
            throw new InvalidOperationException($"process axis '{axis.Name}' is already bound");
        return new Unbind(axis);
    }

    /// <summary>The process axis named <paramref name="name"/>, or null.</summary>
    public static IProcessAxis? Find(string name) => Axes.TryGetValue(name, out var a) ? a : null;

    sealed class Unbind(IProcessAxis axis) : IDisposable
    {
        public void Dispose() => ((ICollection<KeyValuePair<string, IProcessAxis>>)Axes).Remove(new(axis.Name, axis));
    }

    /// <summary>Eager evaluation of a collective: only a process axis can bind its name there
    /// (a Vmap that binds it has already handled the primitive).</summary>
    internal static Tensor[] Evaluate(Primitive collective, string name, Tensor[] args, Params parameters)
    {
        var axis = Find(name) ?? throw Transforms.UnboundAxis(collective.Name, name);
        if (collective == Prims.AxisIndex)
            return new[] { Tensor.Scalar(axis.Index, DType.Int32) };
        collective.AbstractEval(new[] { args[0].Aval }, parameters); // the same type errors as under Vmap
        return new[] { axis.Evaluate(collective, args[0], parameters) };
    }
}
