using System.Collections.Concurrent;
using Stax.Tracing;

namespace Stax;

/// <summary>
/// Tree-aware transformations: the same transformations over arguments and results that are
/// trees of tensors (<see cref="Tree"/>): lists, dictionaries, tuples, arrays and registered
/// records, nested freely. Each flattens its inputs, runs the flat transformation and rebuilds the
/// trees; static (non-tensor) leaves pass through unchanged.
/// </summary>
public static partial class Transforms
{
    // ---------------- reverse mode ----------------

    /// <summary>
    /// The gradient of a scalar function of a tree (e.g. a loss over a
    /// <c>Dictionary&lt;string, Tensor&gt;</c> of parameters), as a function returning a tree of the
    /// same structure. Every tensor leaf must be floating point.
    /// </summary>
    public static Func<T, T> Grad<T>(Func<T, Tensor> f) => x => ValueAndGrad(f)(x).Grad;

    /// <summary>Value and gradient of a scalar function of a tree.</summary>
    public static Func<T, (Tensor Value, T Grad)> ValueAndGrad<T>(Func<T, Tensor> f) => x =>
    {
        var ((v, _), g) = ValueAndGrad<T, object?>(p => (f(p), null), hasAux: true)(x);
        return (v, g);
    };

    /// <summary>
    /// Value and gradient of a function that returns a scalar and auxiliary data (any tree; not
    /// differentiated), like JAX's <c>value_and_grad(f, has_aux=True)</c>. <paramref name="hasAux"/>
    /// must be true (it documents the call site, as in JAX).
    /// </summary>
    public static Func<T, ((Tensor Value, TAux Aux), T Grad)> ValueAndGrad<T, TAux>(Func<T, (Tensor, TAux)> f, bool hasAux)
    {
        if (!hasAux) throw new ArgumentException("ValueAndGrad: a function returning (value, aux) must be called with hasAux: true");
        return x =>
        {
            var (leaves, def) = Tree.Flatten(x);
            CheckFloatLeaves(leaves, def, "Grad");
            TreeDef? auxDef = null;
            Tensor[] G(Tensor[] xs)
            {
                var (y, aux) = f(Tree.Unflatten<T>(def, xs));
                if (y is null || y.Rank != 0 || !y.DType.IsFloat())
                    throw new ArgumentException($"Grad: the function must return a floating-point scalar, got {(y is null ? "null" : y.Aval.ToString())}");
                var (al, ad) = Tree.Flatten(aux);
                auxDef = ad;
                return al.Prepend(y).ToArray();
            }
            var (outs, lin) = LinearizeJaxpr(G, leaves);
            var cts = new Tensor?[outs.Length];
            cts[0] = Np.OnesLike(outs[0]).WithWeak(false);
            var r = Transposer.BackwardPass(lin.Jaxpr, lin.Consts, new Tensor?[leaves.Length], cts);
            var grads = r.Select((c, i) => c ?? Np.ZerosLike(leaves[i])).ToArray();
            var auxOut = Tree.Unflatten<TAux>(auxDef!, outs.Skip(1).ToArray());
            return ((outs[0], auxOut), Tree.Unflatten<T>(def, grads));
        };
    }

    /// <summary>Gradient of a function that returns (scalar, aux), with the aux data: JAX's <c>grad(f, has_aux=True)</c>.</summary>
    public static Func<T, (T Grad, TAux Aux)> Grad<T, TAux>(Func<T, (Tensor, TAux)> f, bool hasAux)
    {
        var vg = ValueAndGrad(f, hasAux);
        return x => { var ((_, aux), g) = vg(x); return (g, aux); };
    }

    /// <summary>
    /// The gradient of <c>f(params, data)</c> with respect to its first argument (argnums = 0, the
    /// common <c>loss(params, batch)</c> case). The second argument is not differentiated (it may be
    /// any tree, including integer labels). For gradients with respect to both, differentiate a
    /// function of the pair.
    /// </summary>
    public static Func<T1, T2, T1> Grad<T1, T2>(Func<T1, T2, Tensor> f) => (a, b) => Grad<T1>(p => f(p, b))(a);

    /// <summary>Value and gradient of <c>f(params, data)</c> with respect to its first argument.</summary>
    public static Func<T1, T2, (Tensor Value, T1 Grad)> ValueAndGrad<T1, T2>(Func<T1, T2, Tensor> f) => (a, b) => ValueAndGrad<T1>(p => f(p, b))(a);

    /// <summary>
    /// Outputs of <paramref name="f"/> at <paramref name="primals"/> and its vector-Jacobian product:
    /// a function from an output cotangent tree (the output's structure) to the input cotangent tree.
    /// </summary>
    public static (TOut Outputs, Func<TOut, T> Vjp) Vjp<T, TOut>(Func<T, TOut> f, T primals)
    {
        var (leaves, def) = Tree.Flatten(primals);
        TreeDef? outDef = null;
        var (outs, pullback) = Vjp(xs =>
        {
            var (ol, od) = Tree.Flatten(f(Tree.Unflatten<T>(def, xs)));
            outDef = od;
            return ol;
        }, leaves);
        var od = outDef!;
        T Pullback(TOut ct)
        {
            var (cl, cd) = Tree.Flatten(ct);
            Tree.CheckSame(od, cd, "Vjp", "the function's output", "the cotangent");
            CheckLeafTypes(outs, cl, od, "Vjp", "cotangent", "output");
            return Tree.Unflatten<T>(def, pullback(cl));
        }
        return (Tree.Unflatten<TOut>(od, outs), Pullback);
    }

    // ---------------- forward mode ----------------

    /// <summary>
    /// Evaluates <paramref name="f"/> at a tree of primals and its directional derivative along a
    /// tree of tangents of the same structure (and leaf shapes/dtypes).
    /// </summary>
    public static (TOut Primals, TOut Tangents) Jvp<T, TOut>(Func<T, TOut> f, T primals, T tangents)
    {
        var (pl, pd) = Tree.Flatten(primals);
        var (tl, td) = Tree.Flatten(tangents);
        Tree.CheckSame(pd, td, "Jvp", "the primals", "the tangents");
        CheckLeafTypes(pl, tl, pd, "Jvp", "tangent", "primal");
        TreeDef? outDef = null;
        var (po, to) = Jvp(xs =>
        {
            var (ol, od) = Tree.Flatten(f(Tree.Unflatten<T>(pd, xs)));
            outDef = od;
            return ol;
        }, pl, tl);
        return (Tree.Unflatten<TOut>(outDef!, po), Tree.Unflatten<TOut>(outDef!, to));
    }

    // ---------------- vectorisation ----------------

    /// <summary>
    /// Vectorises a function of a tree: every tensor leaf of the argument is mapped over axis
    /// <paramref name="inAxes"/> (null = not mapped) and every output leaf gets the mapped axis at
    /// <paramref name="outAxes"/>.
    /// </summary>
    public static Func<TIn, TOut> Vmap<TIn, TOut>(Func<TIn, TOut> f, int? inAxes = 0, int? outAxes = 0)
        => Vmap(f, (object?)inAxes, (object?)outAxes);

    /// <summary>
    /// Vectorises a function of a tree with per-subtree axes. <paramref name="inAxes"/> and
    /// <paramref name="outAxes"/> are tree prefixes: an int or null applies to a whole subtree;
    /// a container (any list, array, string-keyed dictionary or tuple, e.g.
    /// <c>new Dictionary&lt;string, object?&gt; { ["w"] = null, ["x"] = 0 }</c>) matches the tree's
    /// structure down to its depth. Not-mapped (null) outputs must not depend on the mapped axis.
    /// </summary>
    public static Func<TIn, TOut> Vmap<TIn, TOut>(Func<TIn, TOut> f, object? inAxes, object? outAxes,
        string? axisName = null, int? axisSize = null) => x =>
    {
        var r = VmapTrees(args => new object?[] { f(As<TIn>(args[0])) }, new object?[] { x }, new[] { inAxes }, outAxes, axisName, axisSize);
        return As<TOut>(r);
    };

    /// <summary>
    /// Vectorises a two-argument function of trees; <paramref name="inAxes1"/>/<paramref name="inAxes2"/>
    /// are the tree prefixes of the axes of each argument (e.g. per-example gradients:
    /// <c>Vmap(Grad(loss), null, 0)(params, batch)</c>).
    /// </summary>
    public static Func<T1, T2, TOut> Vmap<T1, T2, TOut>(Func<T1, T2, TOut> f, object? inAxes1, object? inAxes2, object? outAxes = null,
        string? axisName = null, int? axisSize = null) => (a, b) =>
    {
        var r = VmapTrees(args => new object?[] { f(As<T1>(args[0]), As<T2>(args[1])) }, new object?[] { a, b }, new[] { inAxes1, inAxes2 },
            outAxes ?? 0, axisName, axisSize);
        return As<TOut>(r);
    };

    static object? VmapTrees(Func<object?[], object?[]> f, object?[] args, object?[] inAxes, object? outAxes, string? axisName, int? axisSize)
    {
        // The arguments form one tree (an object?[] node), so paths read [0]["w"], [1][2], ...
        var (leaves, def) = Tree.Flatten(args);
        var axes = new List<int?>(leaves.Length);
        for (int k = 0; k < args.Length; k++)
            axes.AddRange(TreePrefix.AxesPerLeaf(inAxes[k], def.ChildDefs[k], args.Length == 1 ? "Vmap: in_axes" : $"Vmap: in_axes of argument {k}"));
        var paths = def.LeafPaths;
        // One argument: paths inside it ("the root", ["w"]); several: [argument index] first.
        string Name(int i) => args.Length == 1 ? Show(new TreePath(paths[i].Keys.Skip(1))) : paths[i].ToString();
        int? size = axisSize;
        int? sizeFrom = null;
        var norm = new int?[leaves.Length];
        for (int i = 0; i < leaves.Length; i++)
        {
            if (axes[i] is not int ax) continue;
            int a = leaves[i].Shape.Axis(ax, $"Vmap (leaf {Name(i)}, in_axes {ax})");
            norm[i] = a;
            int n = leaves[i].Shape[a];
            if (size is int s && s != n)
                throw new ArgumentException($"Vmap: inconsistent sizes for the mapped axis: leaf {Name(i)} has size {n} at axis {a} (shape {leaves[i].Shape}), " +
                    (sizeFrom is int k ? $"but leaf {Name(k)} has size {s} (shape {leaves[k].Shape}, axis {norm[k]})" : $"but axisSize is {s}"));
            size = n;
            sizeFrom ??= i;
        }
        if (size is not int axisLen)
            throw new ArgumentException("Vmap: no tensor leaf is mapped; give axisSize or map at least one leaf");
        using var scope = TraceState.Begin(l => new BatchTrace(l, axisLen, axisName));
        var trace = scope.Trace;
        var ins = leaves.Select((x, i) => trace.New(x, norm[i])).ToArray();
        var rebuilt = Tree.Unflatten<object?[]>(def, ins);
        var y = f(rebuilt)[0];
        var (outs, odef) = Tree.Flatten(y);
        var oax = TreePrefix.AxesPerLeaf(outAxes, odef, "Vmap: out_axes");
        var opaths = odef.LeafPaths;
        var result = new Tensor[outs.Length];
        for (int i = 0; i < outs.Length; i++)
        {
            var (v, d) = trace.Unpack(outs[i]);
            if (oax[i] is not int oa)
            {
                if (d is not null)
                    throw new ArgumentException($"Vmap: output {Show(opaths[i])} has out_axes null but depends on the mapped axis");
                result[i] = v;
                continue;
            }
            int rank = v.Rank + (d is null ? 1 : 0);
            if (oa < -rank || oa >= rank)
                throw new ArgumentException($"Vmap: out_axes {oa} is out of range for output {Show(opaths[i])} of batched rank {rank}");
            result[i] = BatchRules.MoveTo(v, d, oa < 0 ? oa + rank : oa, axisLen);
        }
        return Tree.Unflatten(odef, result);
    }


    // ---------------- staging ----------------

    /// <summary>
    /// Compiles a function of a tree. The cache key is the argument's structure (its
    /// <see cref="TreeDef"/>, including static leaves, which act as static arguments) and the leaves'
    /// shapes/dtypes; a call with a seen key runs the cached program without tracing. C# numbers
    /// (<c>int</c>, <c>long</c>, <c>float</c>, <c>double</c>) in slots that can hold a tensor
    /// (<c>object</c>, <c>Tensor</c>) are traced as weakly typed scalars, like Python scalars in JAX,
    /// so the function receives a <see cref="Tensor"/> there and a changing step counter does not
    /// retrace. Static values are opt-in: bools, strings, enums, <see cref="Static{T}"/>, and
    /// numbers in slots typed as numbers (a typed <c>int</c> parameter).
    /// <para><paramref name="donateArgnums"/> (JAX's <c>donate_argnums</c>) lists arguments whose
    /// every tensor leaf is donated: the backend may reuse their buffers for the outputs (a train
    /// state updated in place), and using them after the call is an error. A tensor that also
    /// appears in an argument that is not donated is not donated. Overloads take up to six
    /// arguments (trees of any kind: records such as a <c>TrainState</c>, keys, tensors, numbers).</para>
    /// </summary>
    public static Func<TIn, TOut> Jit<TIn, TOut>(Func<TIn, TOut> f, string? name = null, params int[] donateArgnums)
    {
        var (call, _) = JitCore(a => f(As<TIn>(a[0])), name, donateArgnums, typeof(TIn));
        return x => As<TOut>(call(new object?[] { x }));
    }

    /// <summary>Compiles a two-argument function of trees (e.g. <c>update(params, batch)</c>); see <see cref="Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>.</summary>
    public static Func<T1, T2, TOut> Jit<T1, T2, TOut>(Func<T1, T2, TOut> f, string? name = null, params int[] donateArgnums)
    {
        var (call, _) = JitCore(a => f(As<T1>(a[0]), As<T2>(a[1])), name, donateArgnums, typeof(T1), typeof(T2));
        return (a, b) => As<TOut>(call(new object?[] { a, b }));
    }

    /// <summary>Compiles a three-argument function of trees (e.g. <c>step(state, x, y)</c>); see <see cref="Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>.</summary>
    public static Func<T1, T2, T3, TOut> Jit<T1, T2, T3, TOut>(Func<T1, T2, T3, TOut> f, string? name = null, params int[] donateArgnums)
    {
        var (call, _) = JitCore(a => f(As<T1>(a[0]), As<T2>(a[1]), As<T3>(a[2])), name, donateArgnums, typeof(T1), typeof(T2), typeof(T3));
        return (a, b, c) => As<TOut>(call(new object?[] { a, b, c }));
    }

    /// <summary>Compiles a four-argument function of trees (e.g. <c>step(state, x, y, key)</c>); see <see cref="Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>.</summary>
    public static Func<T1, T2, T3, T4, TOut> Jit<T1, T2, T3, T4, TOut>(Func<T1, T2, T3, T4, TOut> f, string? name = null, params int[] donateArgnums)
    {
        var (call, _) = JitCore(a => f(As<T1>(a[0]), As<T2>(a[1]), As<T3>(a[2]), As<T4>(a[3])), name, donateArgnums,
            typeof(T1), typeof(T2), typeof(T3), typeof(T4));
        return (a, b, c, d) => As<TOut>(call(new object?[] { a, b, c, d }));
    }

    /// <summary>Compiles a five-argument function of trees; see <see cref="Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>.</summary>
    public static Func<T1, T2, T3, T4, T5, TOut> Jit<T1, T2, T3, T4, T5, TOut>(Func<T1, T2, T3, T4, T5, TOut> f, string? name = null, params int[] donateArgnums)
    {
        var (call, _) = JitCore(a => f(As<T1>(a[0]), As<T2>(a[1]), As<T3>(a[2]), As<T4>(a[3]), As<T5>(a[4])), name, donateArgnums,
            typeof(T1), typeof(T2), typeof(T3), typeof(T4), typeof(T5));
        return (a, b, c, d, e) => As<TOut>(call(new object?[] { a, b, c, d, e }));
    }

    /// <summary>Compiles a six-argument function of trees; see <see cref="Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>.</summary>
    public static Func<T1, T2, T3, T4, T5, T6, TOut> Jit<T1, T2, T3, T4, T5, T6, TOut>(Func<T1, T2, T3, T4, T5, T6, TOut> f, string? name = null,
        params int[] donateArgnums)
    {
        var (call, _) = JitCore(a => f(As<T1>(a[0]), As<T2>(a[1]), As<T3>(a[2]), As<T4>(a[3]), As<T5>(a[4]), As<T6>(a[5])), name, donateArgnums,
            typeof(T1), typeof(T2), typeof(T3), typeof(T4), typeof(T5), typeof(T6));
        return (a, b, c, d, e, g) => As<TOut>(call(new object?[] { a, b, c, d, e, g }));
    }

    /// <summary>Like <see cref="Jit{TIn, TOut}(Func{TIn, TOut}, string?, int[])"/>, also returning the underlying
    /// <see cref="JitFunction"/> (trace count, cache size).</summary>
    public static (Func<TIn, TOut> Call, JitFunction Compiled) JitWithInfo<TIn, TOut>(Func<TIn, TOut> f, string? name = null, params int[] donateArgnums)
    {
        var (call, j) = JitCore(a => f(As<TIn>(a[0])), name, donateArgnums, typeof(TIn));
        return (x => As<TOut>(call(new object?[] { x })), j);
    }

    static (Func<object?[], object?>, JitFunction) JitCore(Func<object?[], object?> f, string? name, int[] donateArgnums, params Type[] argTypes)
    {
        ArgumentNullException.ThrowIfNull(donateArgnums);
        foreach (var i in donateArgnums)
            if (i < 0 || i >= argTypes.Length)
                throw new ArgumentException($"Jit ({name ?? "f"}): donate_argnums {i} is out of range for a function of {argTypes.Length} argument(s)");
        // The arguments are one tree (an object?[] node); its TreeDef is the Jit static argument, so
        // it is part of the cache key. Output structures are remembered per (structure, types).
        var outDefs = new ConcurrentDictionary<(TreeDef, string), TreeDef>();
        static string Types(Tensor[] xs) => string.Join(";", xs.Select(a => a.Aval.ToString()));
        var j = Jit((xs, st) =>
        {
            var def = (TreeDef)st!;
            var y = f(Tree.Unflatten<object?[]>(def, xs));
            var (ol, od) = Tree.Flatten(y);
            outDefs[(def, Types(xs))] = od;
            return ol;
        }, name ?? "f");
        j.Evicted = (types, st) => outDefs.TryRemove(((TreeDef)st!, types), out _);
        object? Call(object?[] args)
        {
            var lifted = new object?[args.Length];
            for (int i = 0; i < args.Length; i++) lifted[i] = JitScalars.Lift(args[i], argTypes[i]);
            var (leaves, def) = Tree.Flatten(lifted);
            var outs = j.Call(leaves, def, donateArgnums.Length == 0 ? null : DonationMask(leaves, def, donateArgnums));
            return Tree.Unflatten(outDefs[(def, Types(leaves))], outs);
        }
        return (Call, j);
    }

    // Every leaf of a donated argument, except tensors that a kept argument also holds.
    static bool[] DonationMask(Tensor[] leaves, TreeDef def, int[] donateArgnums)
    {
        var mask = new bool[leaves.Length];
        var start = new int[def.ChildDefs.Length + 1];
        for (int a = 0; a < def.ChildDefs.Length; a++) start[a + 1] = start[a] + def.ChildDefs[a].LeafCount;
        foreach (var a in donateArgnums)
            for (int i = start[a]; i < start[a + 1]; i++) mask[i] = true;
        var kept = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < leaves.Length; i++) if (!mask[i]) kept.Add(leaves[i]);
        for (int i = 0; i < leaves.Length; i++) if (mask[i] && kept.Contains(leaves[i])) mask[i] = false;
        return mask;
    }

    static T As<T>(object? x) => x is null ? default! : (T)x;

    /// <summary>
    /// Output types of a function of a tree, as a tree of abstract values, without running any
    /// kernel (only the shapes/dtypes of <paramref name="example"/> are used).
    /// </summary>
    public static ShapeTree EvalShape<TIn, TOut>(Func<TIn, TOut> f, TIn example) => EvalShape(f, ShapeTree.Of(example));

    /// <summary>Output types of a function of a tree given only the input's abstract tree.</summary>
    public static ShapeTree EvalShape<TIn, TOut>(Func<TIn, TOut> f, ShapeTree input)
    {
        TreeDef? outDef = null;
        var avals = EvalShape(xs =>
        {
            var (ol, od) = Tree.Flatten(f(Tree.Unflatten<TIn>(input.Def, xs)));
            outDef = od;
            return ol;
        }, input.Leaves.ToArray());
        return new ShapeTree(outDef!, avals);
    }

    /// <summary>The program of a function of a tree, traced on arguments shaped like <paramref name="example"/>
    /// (inputs are the tensor leaves in flattening order; outputs likewise).</summary>
    public static ClosedJaxpr MakeJaxpr<TIn, TOut>(Func<TIn, TOut> f, TIn example)
    {
        var (leaves, def) = Tree.Flatten(example);
        return MakeJaxpr(xs => Tree.Flatten(f(Tree.Unflatten<TIn>(def, xs))).Leaves, leaves.Select(l => l.Aval).ToArray());
    }

    // ---------------- helpers ----------------

    static void CheckFloatLeaves(Tensor[] leaves, TreeDef def, string who)
    {
        IReadOnlyList<TreePath>? paths = null;
        for (int i = 0; i < leaves.Length; i++)
            if (!leaves[i].DType.IsFloat())
            {
                paths ??= def.LeafPaths;
                throw new ArgumentException($"{who}: the leaf at {Show(paths[i])} has dtype {leaves[i].DType.Name()}; gradients need floating-point inputs");
            }
    }

    static void CheckLeafTypes(Tensor[] expected, Tensor[] actual, TreeDef def, string who, string what, string against)
    {
        IReadOnlyList<TreePath>? paths = null;
        for (int i = 0; i < expected.Length; i++)
            if (expected[i].Shape != actual[i].Shape || (what == "tangent" && expected[i].DType != actual[i].DType))
            {
                paths ??= def.LeafPaths;
                throw new ArgumentException($"{who}: the {what} at {Show(paths[i])} has type {actual[i].Aval} but the {against} has {expected[i].Aval}");
            }
    }

    static string Show(TreePath p) => p.Keys.Count == 0 ? "the root" : p.ToString();
}
