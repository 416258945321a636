using Stax.Tracing;

namespace Stax.Distributed;

/// <summary>
/// <c>psum_fused</c>: the sum over a named axis of several tensors at once, one output per operand
/// (JAX's psum of a tuple). <see cref="GradientFusion"/> binds it once per bucket over a process
/// axis, so a compiled step holds one collective per bucket without concatenating, reshaping and
/// slicing the leaves (each of those is a copy on the CPU backend); the MPI axis then reduces the
/// leaves straight from their buffers into the outputs' buffers after one agreement check.
/// Its rules are psum's applied to every operand: linear, its own transpose, and under a Vmap of
/// the same name each operand is summed over the mapped dimension.
/// </summary>
public static class FusedPsum
{
    /// <summary>The primitive; its parameters are <see cref="CollectiveParams"/> (the axis name).</summary>
    public static readonly Primitive Primitive = new("psum_fused", PrimitiveFamily.Control, (ins, _) =>
    {
        if (ins.Length == 0) throw new ArgumentException("psum_fused: needs at least one operand");
        var outs = new AbstractValue[ins.Length];
        for (int i = 0; i < ins.Length; i++)
        {
            TypeRules.RequireKind("psum_fused", TypeRules.Kinds.Numeric, ins[i]);
            outs[i] = ins[i];
        }
        return outs;
    }, inputs: -1, multipleResults: true);

    static FusedPsum()
    {
        var p = Primitive;
        p.Impl = (args, ps) => Evaluate(args, null, Name(ps));
        // In a compiled step the gradients die at their all-reduce: MPI sums them in place.
        p.DonatingImpl = (args, dead, ps) => Evaluate(args, dead, Name(ps));
        p.Jvp = (xs, ts, ps) => (Bind(xs, Name(ps)), Some(ts, Name(ps)));
        // Each output is the sum of all members' operands: the transpose sums the cotangents again.
        p.Transpose = (cts, _, ps) => Some(cts, Name(ps));
        BatchRules.RequireAxis(p);
        p.Batch = (ctx, xs, ds, ps) =>
        {
            string name = Name(ps);
            if (ctx.AxisName != name) return (Bind(xs, name), ds.ToArray()); // mapped dimensions pass through
            var outs = new Tensor[xs.Length];
            for (int i = 0; i < xs.Length; i++)
                outs[i] = ds[i] is int k ? Lax.ReduceSum(xs[i], k) : Lax.Mul(xs[i], Np.FullLike(xs[i], ctx.AxisSize));
            return (outs, new int?[xs.Length]);
        };
    }

    static string Name(Params ps) => ((CollectiveParams)ps).AxisName;

    /// <summary>True when an active Vmap binds <paramref name="axisName"/> (it then shadows any process axis).</summary>
    internal static bool BoundByVmap(string axisName)
    {
        foreach (var t in TraceState.Active)
            if (t is BatchTrace b && b.IsActive && b.Context.AxisName == axisName) return true;
        return false;
    }

    /// <summary>
    /// The psum of every operand over <paramref name="axisName"/>. Outside any Vmap of that name
    /// the operands are bound as one <c>psum_fused</c> equation (evaluated by the process axis);
    /// inside one, each is an ordinary <see cref="Transforms.Psum"/>, which that Vmap handles.
    /// </summary>
    public static Tensor[] Bind(Tensor[] operands, string axisName)
    {
        ArgumentNullException.ThrowIfNull(operands);
        ArgumentException.ThrowIfNullOrEmpty(axisName);
        if (operands.Length == 0) return Array.Empty<Tensor>();
        if (BoundByVmap(axisName)) return operands.Select(x => Transforms.Psum(x, axisName)).ToArray();
        if (ProcessAxes.Find(axisName) == null)
            return new[] { Transforms.Psum(operands[0], axisName) }; // throws "unbound axis name"
        return Primitive.Bind(new CollectiveParams(axisName), operands);
    }

    // The sum of the non-zero operands (null = a symbolic zero stays zero).
    static Tensor?[] Some(Tensor?[] xs, string axisName)
    {
        var present = Enumerable.Range(0, xs.Length).Where(i => xs[i] is not null).ToArray();
        var outs = new Tensor?[xs.Length];
        if (present.Length == 0) return outs;
        var sums = Bind(present.Select(i => xs[i]!).ToArray(), axisName);
        for (int j = 0; j < present.Length; j++) outs[present[j]] = sums[j];
        return outs;
    }

    static Tensor[] Evaluate(Tensor[] args, bool[]? dead, string axisName)
    {
        var axis = ProcessAxes.Find(axisName)
            ?? throw new ArgumentException(
                $"psum_fused: unbound axis name '{axisName}': no enclosing Vmap has axisName \"{axisName}\" "
                + "and no process axis is bound with that name");
        if (axis is MpiProcessAxis mpi) return mpi.EvaluateFused(args, dead);
        // Any other process axis: one psum per operand.
        var ps = new CollectiveParams(axisName);
        return args.Select(x => axis.Evaluate(Prims.Psum, x, ps)).ToArray();
    }
}
