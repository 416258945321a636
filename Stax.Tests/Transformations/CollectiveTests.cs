using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

/// <summary>Collectives over named Vmap axes: Psum, Pmean, Pmax, Pmin, AllGather, PsumScatter, AxisIndex.</summary>
public class CollectiveTests
{
    static double[] D(Tensor t) => t.ToDoubleArray();

    static Func<Tensor, Tensor> Named(Func<Tensor, Tensor> f, string name, int inAxis = 0)
        => x => Transforms.Vmap(xs => new[] { f(xs[0]) }, new int?[] { inAxis }, axisName: name)(new[] { x })[0];

    // x: 4 members of 3 values each.
    static readonly Tensor X = Tensor.FromArray(new double[] { 1, 5, -2, 3, 0, 7, -4, 2, 2, 6, 1, 0.5 }, 4, 3);
    static readonly double[][] Rows = Enumerable.Range(0, 4).Select(i => D(X).Skip(3 * i).Take(3).ToArray()).ToArray();
    static double[] Col(Func<IEnumerable<double>, double> f) => Enumerable.Range(0, 3).Select(j => f(Rows.Select(r => r[j]))).ToArray();
    static double[] Repeat(double[] v, int n) => Enumerable.Repeat(v, n).SelectMany(a => a).ToArray();

    [Fact]
    public void ReductionsAgainstHandComputedValues()
    {
        Check.Close(Repeat(Col(c => c.Sum()), 4), D(Named(x => Psum(x, "i"), "i")(X)), 0, 0, "psum");
        Check.Close(Repeat(Col(c => c.Average()), 4), D(Named(x => Pmean(x, "i"), "i")(X)), 1e-15, 0, "pmean");
        Check.Close(Repeat(Col(c => c.Max()), 4), D(Named(x => Pmax(x, "i"), "i")(X)), 0, 0, "pmax");
        Check.Close(Repeat(Col(c => c.Min()), 4), D(Named(x => Pmin(x, "i"), "i")(X)), 0, 0, "pmin");
        // Mapped over the last axis: 3 members of 4 values.
        var byCol = D(Named(x => Psum(x, "j"), "j", inAxis: 1)(X));
        Check.Close(Repeat(Rows.Select(r => r.Sum()).ToArray(), 3), byCol, 0, 0, "psum over axis 1");
        // An operand that does not depend on the mapped axis counts once per member.
        var c = Tensor.FromArray(new double[] { 1, 2, 3 }, 3);
        Check.Close(Repeat(new[] { 4.0, 8, 12 }, 4), D(Named(x => x * 0.0 + Psum(c, "i"), "i")(X)), 0, 0, "psum of unmapped");
        Check.Close(Repeat(new[] { 1.0, 2, 3 }, 4), D(Named(x => x * 0.0 + Pmax(c, "i"), "i")(X)), 0, 0, "pmax of unmapped");
        // Integers.
        var xi = Tensor.FromArray(new[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var si = Named(x => Psum(x, "i"), "i")(xi);
        Assert.Equal(DType.Int32, si.DType);
        Assert.Equal(new[] { 9.0, 12, 9, 12, 9, 12 }, D(si));
        Assert.Equal(DType.Float32, Named(x => Pmean(x, "i"), "i")(xi).DType);
    }

    [Fact]
    public void AllGatherPsumScatterAndAxisIndex()
    {
        // Every member receives the whole batch.
        var g0 = Named(x => AllGather(x, "i"), "i")(X);
        Assert.Equal(new Shape(4, 4, 3), g0.Shape);
        Check.Close(Repeat(D(X), 4), D(g0), 0, 0, "all_gather axis 0");
        var g1 = Named(x => AllGather(x, "i", axis: 1), "i")(X);
        Assert.Equal(new Shape(4, 3, 4), g1.Shape);
        Check.Close(Repeat(D(X.T), 4), D(g1), 0, 0, "all_gather axis 1");
        var gm = Named(x => AllGather(x, "i", axis: -1), "i")(X);
        Assert.Equal(D(g1), D(gm));
        // psum_scatter: member i gets the i-th slice of the sum over members.
        var y = TestData.Tensor(1, new[] { 4, 4, 2 }, DType.Float64); // 4 members, each 4 x 2
        var ps = Named(v => PsumScatter(v, "i"), "i")(y);
        Assert.Equal(new Shape(4, 2), ps.Shape);
        var yd = D(y);
        var want = new double[8];
        for (int m = 0; m < 4; m++) for (int i = 0; i < 4; i++) for (int k = 0; k < 2; k++) want[i * 2 + k] += yd[m * 8 + i * 2 + k];
        Check.Close(want, D(ps), 1e-15, 1e-15, "psum_scatter");
        // axis_index.
        var idx = Named(x => Lax.ConvertElementType(AxisIndex("i"), DType.Float64) + x * 0.0, "i")(X);
        Assert.Equal(new double[] { 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3 }, D(idx));
        Assert.Equal(4, Named(x => x * 0.0 + AxisSize("i"), "i")(X).ToDoubleArray()[0]);
    }

    [Fact]
    public void NestedNamedAxes()
    {
        var x = TestData.Tensor(2, new[] { 2, 3, 4 }, DType.Float64); // outer "i" (2) x inner "j" (3) x 4
        var xd = D(x);
        double At(int i, int j, int k) => xd[(i * 3 + j) * 4 + k];
        Tensor Both(Func<Tensor, Tensor> f) => Named(a => Named(f, "j")(a), "i")(x);
        var inner = D(Both(v => Psum(v, "j")));
        var outer = D(Both(v => Psum(v, "i")));
        var all = D(Both(v => Psum(Psum(v, "i"), "j")));
        var idx = D(Both(v => Lax.ConvertElementType(AxisIndex("i") * 10 + AxisIndex("j"), DType.Float64) + v * 0.0));
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++)
        {
            int q = (i * 3 + j) * 4 + k;
            Assert.Equal(Enumerable.Range(0, 3).Sum(jj => At(i, jj, k)), inner[q], 12);
            Assert.Equal(Enumerable.Range(0, 2).Sum(ii => At(ii, j, k)), outer[q], 12);
            Assert.Equal(Enumerable.Range(0, 2).Sum(ii => Enumerable.Range(0, 3).Sum(jj => At(ii, jj, k))), all[q], 12);
            Assert.Equal(i * 10 + j, idx[q]);
        }
        // An inner Vmap of the same name shadows the outer one.
        var shadow = D(Named(a => Named(v => Psum(v, "i"), "i")(a), "i")(x));
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++)
            Assert.Equal(Enumerable.Range(0, 3).Sum(jj => At(i, jj, k)), shadow[(i * 3 + j) * 4 + k], 12);
        // all_gather over the outer name from inside the inner Vmap.
        var g = Both(v => AllGather(v, "i"));
        Assert.Equal(new Shape(2, 3, 2, 4), g.Shape);
        var gd = D(g);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int m = 0; m < 2; m++) for (int k = 0; k < 4; k++)
            Assert.Equal(At(m, j, k), gd[((i * 3 + j) * 2 + m) * 4 + k]);
    }

    [Fact]
    public void BatchNormLikeNormalisation()
    {
        var x = TestData.Tensor(3, new[] { 6, 5 }, DType.Float64);
        Func<Tensor, Tensor> norm = xi =>
        {
            var c = xi - Pmean(xi, "b");
            return c / Np.Sqrt(Pmean(c * c, "b") + 1e-5);
        };
        var got = Named(norm, "b")(x);
        var mean = Np.Mean(x, 0, keepdims: true);
        var centred = x - mean;
        var want = centred / Np.Sqrt(Np.Mean(centred * centred, 0, keepdims: true) + 1e-5);
        Check.Close(D(want), D(got), 1e-13, 1e-13, "batch norm");
        // Its gradient, per example (Vmap of Grad) and of the whole batch (Grad of Vmap), agree.
        var w = TestData.Tensor(4, new[] { 5 }, DType.Float64);
        var g1 = Transforms.Vmap(xs => new[] { Grad(xi => Np.Sum(norm(xi) * w))(xs[0]) }, new int?[] { 0 }, axisName: "b")(new[] { x })[0];
        var g2 = Grad(v => Np.Sum(Named(xi => norm(xi) * w, "b")(v)))(x);
        Check.Close(D(g2), D(g1), 1e-10, 1e-10, "vmap of grad vs grad of vmap");
        TransformCheck.Grads(xs => new[] { Named(norm, "b")(xs[0]) }, new[] { x }, order: 2, name: "batch norm");
    }

    [Fact]
    public void GradientsThroughCollectives()
    {
        var x = TestData.Tensor(5, new[] { 4 }, DType.Float64, 0.5, 2);
        // f(x) = sum_i x_i * sum_j x_j = S²: gradient 2S everywhere.
        Func<Tensor, Tensor> f = v => Np.Sum(Named(xi => xi * Psum(xi, "i"), "i")(v));
        double s = D(x).Sum();
        Check.Close(Enumerable.Repeat(2 * s, 4).ToArray(), D(Grad(f)(x)), 1e-14, 0, "grad of psum");
        // Per-member gradients inside the Vmap (psum transposes to psum) give the same.
        var perMember = Transforms.Vmap(xs => new[] { Grad(xi => xi * Psum(xi, "i"))(xs[0]) }, new int?[] { 0 }, axisName: "i")(new[] { x })[0];
        Check.Close(Enumerable.Repeat(2 * s, 4).ToArray(), D(perMember), 1e-14, 0, "vmap of grad of psum");

        var m = TestData.Tensor(6, new[] { 4, 3 }, DType.Float64); // distinct values: no pmax ties
        var cases = new (string, Func<Tensor, Tensor>)[]
        {
            ("psum", xi => xi * Psum(xi, "i")),
            ("pmean", xi => Lax.Sin(Pmean(xi * xi, "i")) + xi),
            ("pmax", xi => xi * Pmax(xi, "i")),
            ("pmin", xi => Pmin(Lax.Exp(xi), "i") * xi),
            ("all_gather", xi => Np.Sum(AllGather(xi, "i") * AllGather(xi * xi, "i"), 0) * xi),
            ("psum_scatter", xi => PsumScatter(AllGather(xi, "i") * xi, "i", 0)),
        };
        foreach (var (name, g) in cases)
        {
            TransformCheck.Grads(xs => new[] { Named(g, "i")(xs[0]) }, new[] { m }, order: 2, name: name);
            // Per-member reverse mode agrees with reverse mode of the summed batch.
            var w = TestData.Tensor(7, new[] { 3 }, DType.Float64);
            var a = Transforms.Vmap(xs => new[] { Grad(xi => Np.Sum(g(xi) * w))(xs[0]) }, new int?[] { 0 }, axisName: "i")(new[] { m })[0];
            var b = Grad(v => Np.Sum(Named(xi => g(xi) * w, "i")(v)))(m);
            Check.Close(D(b), D(a), 1e-10, 1e-12, $"{name}: vmap of grad vs grad of vmap");
        }
        // pmax ties share the tangent.
        var tie = Tensor.FromArray(new double[] { 3, 1, 3 }, 3);
        var (_, t) = Jvp(v => Named(xi => Pmax(xi, "i"), "i")(v), tie, Tensor.FromArray(new double[] { 1, 7, 3 }, 3));
        Assert.Equal(new double[] { 2, 2, 2 }, D(t));
    }

    [Fact]
    public void JitEvalShapeAndMakeJaxpr()
    {
        var x = TestData.Tensor(8, new[] { 4, 3 }, DType.Float64);
        Func<Tensor, Tensor> g = xi => xi * Psum(xi, "i") + Pmax(xi, "i") + Np.Sum(AllGather(xi, "i"), 0);
        Func<Tensor[], Tensor[]> f = xs => new[] { Named(g, "i")(xs[0]) };
        TransformCheck.JitMatchesEager(f, new[] { x }, "jit of vmap");
        TransformCheck.EvalShapeMatches(f, new[] { x });
        // Vmap of Jit: the collective is staged inside the jitted function and batched later.
        var jg = Jit(g);
        Check.Close(D(f(new[] { x })[0]), D(Named(jg, "i")(x)), 0, 0, "vmap of jit");
        var grad1 = Grad(v => Np.Sum(Named(jg, "i")(v)))(x);
        var grad2 = Grad(v => Np.Sum(Named(g, "i")(v)))(x);
        Check.Close(D(grad2), D(grad1), 1e-13, 1e-13, "grad of vmap of jit");
        var text = MakeJaxpr(v => Named(xi => Psum(xi, "i"), "i")(v), x).ToString();
        Assert.Contains("reduce_sum", text);
        // Inside a Vmap, a jitted function shows the collective itself.
        string? inner = null;
        Named(xi => { inner = MakeJaxpr(v => Psum(v, "i"), xi).ToString(); return xi; }, "i")(x);
        Assert.Contains("psum[axis_name=i]", inner);
    }

    [Fact]
    public void Errors()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3 }, 3);
        Check.Throws<ArgumentException>(() => Psum(x, "i"), "psum", "unbound axis name 'i'");
        Check.Throws<ArgumentException>(() => Named(v => Pmax(v, "j"), "i")(x), "pmax", "unbound axis name 'j'");
        Check.Throws<ArgumentException>(() => AxisIndex("k"), "axis_index", "unbound axis name 'k'");
        Check.Throws<ArgumentException>(() => MakeJaxpr(v => Pmean(v, "i"), x), "unbound axis name");
        Check.Throws<ArgumentException>(() => Named(v => Psum(Lax.Gt(v, v), "i"), "i")(x), "psum", "bool");
        Check.Throws<ArgumentException>(() => Named(v => AllGather(v, "i", 2), "i")(Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 2, 2)), "all_gather", "axis 2 is out of range");
        Check.Throws<ArgumentException>(() => Named(v => PsumScatter(v, "i"), "i")(Tensor.FromArray(new double[6], 3, 2)), "psum_scatter", "must equal the size of axis 'i' (3)");
        // A staged collective evaluated outside any Vmap.
        var staged = MakeJaxpr(v => Named(xi => { var j = Jit(z => Psum(z, "i")); return j(xi); }, "i")(v), Tensor.FromArray(new double[4], 2, 2));
        Assert.DoesNotContain("psum", staged.ToString());
        var eqn = new Tracing.Eqn(Prims.Psum, new CollectiveParams("i"), Array.Empty<Tracing.Var>(), Array.Empty<Tracing.Var>());
        Check.Throws<ArgumentException>(() => Prims.Psum.Bind(eqn.Params, x), "psum", "unbound axis name 'i'");
    }
}
