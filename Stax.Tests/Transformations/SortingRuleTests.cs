using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of sort and top_k.</summary>
public class SortingRuleTests
{
    static Tensor F64(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    [Fact]
    public void SortSingleOperand()
    {
        var x = F64(1, 3, 5);
        foreach (int dim in new[] { 0, 1 })
        {
            Func<Tensor[], Tensor[]> f = xs => new[] { Lax.Sort(xs[0], dim) };
            TransformCheck.Grads(f, new[] { x }, order: 2, name: $"sort dim {dim}");
            TransformCheck.JitMatchesEager(f, new[] { x }, $"sort dim {dim}");
            TransformCheck.EvalShapeMatches(f, new[] { x });
            TransformCheck.Vmap(f, new[] { F64(2, 4, 3, 5) }, new int?[] { 0 }, name: $"sort dim {dim} vmap 0");
            TransformCheck.Vmap(f, new[] { F64(3, 3, 4, 5) }, new int?[] { 1 }, name: $"sort dim {dim} vmap mid");
            TransformCheck.Vmap(f, new[] { F64(4, 3, 5, 4) }, new int?[] { 2 }, name: $"sort dim {dim} vmap last");
        }
        // Hand check: the gradient of a weighted sorted vector goes back through the permutation.
        var v = Tensor.FromArray(new[] { 0.3, -2.0, 1.5, 0.1 }, 4);
        var w = Tensor.FromArray(new[] { 1.0, 2, 3, 4 }, 4);
        var g = Grad(xs => Np.Sum(Np.Sort(xs[0]) * w), 0)(new[] { v })[0];
        Assert.Equal(new[] { 3.0, 1, 4, 2 }, g.ToDoubleArray()); // sorted: -2.0, 0.1, 0.3, 1.5
    }

    [Fact]
    public void SortSeveralOperands()
    {
        var keys = F64(10, 4, 6);
        var vals = F64(11, 4, 6);
        var ints = Tensor.FromArray(Enumerable.Range(0, 24).Select(k => (k * 7) % 5).ToArray(), 4, 6);
        Func<Tensor[], Tensor[]> f = xs => Lax.Sort(new[] { xs[0], xs[1], xs[2] }, 1, numKeys: 1);
        TransformCheck.Grads(f, new[] { keys, vals, ints }, order: 2, name: "sort key/val/int");
        TransformCheck.JitMatchesEager(f, new[] { keys, vals, ints }, "sort key/val/int");
        TransformCheck.EvalShapeMatches(f, new[] { keys, vals, ints });
        // Two keys (int first, then float), values follow.
        Func<Tensor[], Tensor[]> f2 = xs => Lax.Sort(new[] { xs[2], xs[0], xs[1] }, 1, numKeys: 2);
        TransformCheck.Grads(f2, new[] { keys, vals, ints }, order: 2, name: "sort two keys");
        var kb = F64(12, 4, 3, 6);
        var vb = F64(13, 4, 6, 3);
        TransformCheck.Vmap(f, new[] { kb, vb, ints }, new int?[] { 1, 2, null }, name: "sort keys mid, values last, ints unmapped");
        TransformCheck.Vmap(f, new[] { keys, vb, ints }, new int?[] { null, 2, null }, name: "sort values only mapped");
    }

    [Fact]
    public void ArgsortAndNpSort()
    {
        var x = F64(20, 5, 7);
        Func<Tensor[], Tensor[]> argsort = xs => new[] { Np.Argsort(xs[0], axis: 0) };
        TransformCheck.Vmap(argsort, new[] { F64(21, 5, 3, 7) }, new int?[] { 1 }, name: "argsort vmap");
        TransformCheck.JitMatchesEager(argsort, new[] { x }, "argsort");
        TransformCheck.EvalShapeMatches(argsort, new[] { x });
        // Argsort's integer output has no tangent; grad through a take_along_axis of it works.
        Func<Tensor[], Tensor[]> sortedViaArgsort = xs => new[] { Np.TakeAlongAxis(xs[0], Np.Argsort(xs[0], axis: 1), axis: 1) };
        TransformCheck.Grads(sortedViaArgsort, new[] { x }, order: 2, name: "take_along_axis(argsort)");
        var direct = Grad(xs => Np.Sum(Np.Sort(xs[0], axis: 1) * xs[0]), 0)(new[] { x })[0];
        var viaArgsort = Grad(xs => Np.Sum(sortedViaArgsort(xs)[0] * xs[0]), 0)(new[] { x })[0];
        Check.Close(direct.ToDoubleArray(), viaArgsort.ToDoubleArray(), 1e-14, 1e-14, "Np.Sort vs take_along_axis(argsort)");
        TransformCheck.Vmap(xs => new[] { Np.Sort(xs[0], axis: 0) }, new[] { F64(22, 5, 7, 2) }, new int?[] { 2 }, name: "Np.Sort vmap");
    }

    [Fact]
    public void TopK()
    {
        var x = F64(30, 3, 8);
        Func<Tensor[], Tensor[]> f = xs => { var (v, i) = Lax.TopK(xs[0], 3); return new[] { v, i }; };
        TransformCheck.Grads(f, new[] { x }, order: 2, name: "top_k");
        TransformCheck.Grads(f, new[] { F64(31, 8) }, order: 2, name: "top_k rank 1");
        TransformCheck.JitMatchesEager(f, new[] { x }, "top_k");
        TransformCheck.EvalShapeMatches(f, new[] { x });
        TransformCheck.Vmap(f, new[] { F64(32, 4, 3, 8) }, new int?[] { 0 }, name: "top_k vmap 0");
        TransformCheck.Vmap(f, new[] { F64(33, 3, 4, 8) }, new int?[] { 1 }, name: "top_k vmap mid");
        TransformCheck.Vmap(f, new[] { F64(34, 3, 8, 4) }, new int?[] { 2 }, name: "top_k vmap last (the top_k axis)");
        TransformCheck.Vmap(f, new[] { F64(35, 8, 5) }, new int?[] { 1 }, name: "top_k rank-1 vmap last");
        // Hand check: the gradient lands on the chosen entries.
        var v = Tensor.FromArray(new[] { 0.5, 3.0, -1.0, 2.0 }, 4);
        var g = Grad(xs => Np.Sum(Lax.TopK(xs[0], 2).Values * Tensor.FromArray(new[] { 10.0, 1.0 }, 2)), 0)(new[] { v })[0];
        Assert.Equal(new[] { 0.0, 10, 0, 1 }, g.ToDoubleArray());
    }
    [Fact]
    public void EmptyShapes()
    {
        var x = F64(40, 3, 0);
        Func<Tensor[], Tensor[]> sort = xs => new[] { Lax.Sort(xs[0], 1) };
        Func<Tensor[], Tensor[]> sort0 = xs => new[] { Lax.Sort(xs[0], 0) };
        Func<Tensor[], Tensor[]> top0 = xs => { var (v, i) = Lax.TopK(xs[0], 0); return new[] { v, i }; };
        foreach (var (name, f, arg) in new[] { ("sort empty axis", sort, x), ("sort along non-empty axis", sort0, x), ("top_k k=0", top0, F64(41, 3, 4)) })
        {
            TransformCheck.Grads(f, new[] { arg }, order: 2, name: name);
            TransformCheck.JitMatchesEager(f, new[] { arg }, name);
            TransformCheck.EvalShapeMatches(f, new[] { arg });
            TransformCheck.Vmap(f, new[] { Lax.BroadcastInDim(arg, new Shape(new[] { 2 }.Concat(arg.Shape.ToArray()).ToArray()), 1, 2) }, new int?[] { 0 }, name: name);
        }
    }
}
