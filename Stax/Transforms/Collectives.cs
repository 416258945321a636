using Stax.Tracing;

namespace Stax;

/// <summary>
/// Collectives over a named vmap axis (<c>Vmap(f, ..., axisName: "i")</c>), as jax.lax.psum and friends
/// under jax.vmap: inside the mapped function each batch member sees one slice; a collective
/// combines the slices of all members. Reductions (Psum, Pmean, Pmax, Pmin) and AllGather return the
/// same value to every member. With nested Vmaps each collective reduces over the axis it names
/// (the innermost Vmap of that name). Outside any Vmap of that name, a process axis of that name
/// (<see cref="ProcessAxes"/>, e.g. the ranks of an MPI job) combines the processes' values;
/// with neither, the call throws "unbound axis name".
/// <para>Differentiation: psum is linear and its transpose is psum (the cotangents of all members
/// are summed), which makes <c>Vmap(Grad(f), axisName)</c> agree with the gradient of the summed
/// per-member losses; all_gather and psum_scatter are each other's transposes; pmax/pmin
/// differentiate through a mask of the members that attain the extremum (ties share the tangent).</para>
/// </summary>
public static partial class Transforms
{
    internal static ArgumentException UnboundAxis(string op, string name)
        => new($"{op}: unbound axis name '{name}': no enclosing Vmap has axisName \"{name}\" (give Vmap(..., axisName: \"{name}\") around the call)");

    /// <summary>The innermost active Vmap trace with axis name <paramref name="name"/>, or null.</summary>
    static BatchTrace? FindVmapAxis(string op, string name)
    {
        if (name is null) throw new ArgumentException($"{op}: axis name must not be null");
        var active = TraceState.Active;
        for (int i = active.Count - 1; i >= 0; i--)
            if (active[i] is BatchTrace b && b.IsActive && b.Context.AxisName == name) return b;
        return null;
    }

    /// <summary>The size of the named axis: the innermost Vmap of that name, else a process axis
    /// (<see cref="ProcessAxes"/>), else throws "unbound axis name".</summary>
    static int AxisSizeOf(string op, string name)
        => FindVmapAxis(op, name)?.Context.AxisSize ?? ProcessAxes.Find(name)?.Size ?? throw UnboundAxis(op, name);

    /// <summary>Binds a collective so that the Vmap naming its axis processes it even when the
    /// operand is not batched by that Vmap (it is raised into that trace first). A name bound by
    /// no Vmap but by a process axis is bound at the operand's level: transformations see an
    /// ordinary primitive and evaluation (eager or compiled) runs the process axis's collective.</summary>
    internal static Tensor BindCollective(Primitive prim, Params ps, string name, Tensor x)
    {
        var b = FindVmapAxis(prim.Name, name);
        if (b == null)
        {
            if (ProcessAxes.Find(name) == null) throw UnboundAxis(prim.Name, name);
            return prim.Bind1(ps, x);
        }
        int level = x.Tracer?.Trace.Level ?? 0;
        if (level < b.Level) x = b.FullRaise(x);
        return prim.Bind1(ps, x);
    }

    /// <summary>The size of the named vmap axis (or process axis).</summary>
    public static int AxisSize(string axisName) => AxisSizeOf("axis_size", axisName);

    /// <summary>Sum of <paramref name="x"/> over all members of the named vmap axis (jax.lax.psum).</summary>
    public static Tensor Psum(Tensor x, string axisName) => BindCollective(Prims.Psum, new CollectiveParams(axisName), axisName, x);

    /// <summary>Mean over the named vmap axis: <c>Psum(x) / size</c>; integers give float32 (jax.lax.pmean).</summary>
    public static Tensor Pmean(Tensor x, string axisName)
    {
        int n = AxisSizeOf("pmean", axisName);
        var xf = x.DType.IsFloat() ? x : Lax.ConvertElementType(x, DType.Float32, x.IsWeak);
        var s = Psum(xf, axisName);
        return Lax.Div(s, Np.FullLike(s, n));
    }

    /// <summary>Maximum over the named vmap axis (jax.lax.pmax); NaN propagates.</summary>
    public static Tensor Pmax(Tensor x, string axisName) => BindCollective(Prims.Pmax, new CollectiveParams(axisName), axisName, x);

    /// <summary>Minimum over the named vmap axis (jax.lax.pmin); NaN propagates.</summary>
    public static Tensor Pmin(Tensor x, string axisName) => BindCollective(Prims.Pmin, new CollectiveParams(axisName), axisName, x);

    /// <summary>
    /// Every member's <paramref name="x"/> stacked along a new dimension <paramref name="axis"/>
    /// (negative counts from the end of the result), the same for every member (jax.lax.all_gather, not tiled).
    /// </summary>
    public static Tensor AllGather(Tensor x, string axisName, int axis = 0)
    {
        int size = AxisSizeOf("all_gather", axisName);
        int a = axis < 0 ? axis + x.Rank + 1 : axis;
        if (a < 0 || a > x.Rank)
            throw new ArgumentException($"all_gather: axis {axis} is out of range for an operand of shape {x.Shape}; expected {-(x.Rank + 1)}..{x.Rank}");
        return BindCollective(Prims.AllGather, new AxisGatherParams(axisName, size, a), axisName, x);
    }

    /// <summary>
    /// Sums <paramref name="x"/> over the named axis and gives member i slice i along
    /// <paramref name="axis"/>, whose size must equal the axis size (jax.lax.psum_scatter, not tiled).
    /// </summary>
    public static Tensor PsumScatter(Tensor x, string axisName, int axis = 0)
    {
        int size = AxisSizeOf("psum_scatter", axisName);
        int a = x.Shape.Axis(axis, "psum_scatter");
        return BindCollective(Prims.PsumScatter, new AxisGatherParams(axisName, size, a), axisName, x);
    }

    /// <summary>The int32 index of the current member along the named vmap axis (jax.lax.axis_index).</summary>
    public static Tensor AxisIndex(string axisName)
    {
        var b = FindVmapAxis("axis_index", axisName);
        if (b != null) return b.Process(Prims.AxisIndex, Array.Empty<Tensor>(), new CollectiveParams(axisName))[0];
        if (ProcessAxes.Find(axisName) == null) throw UnboundAxis("axis_index", axisName);
        return Prims.AxisIndex.Bind1(new CollectiveParams(axisName));
    }
}
