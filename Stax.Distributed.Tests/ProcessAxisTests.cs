using static Stax.Transforms;

namespace Stax.Distributed.Tests;

/// <summary>
/// The core's process-axis hook without MPI: a stand-in axis of <c>size</c> members that all hold
/// this process's value, so psum is size·x, pmax is x, all_gather stacks size copies.
/// </summary>
public sealed class ProcessAxisTests
{
    sealed class Replicated(string name, int size, int index) : IProcessAxis
    {
        public int Calls;
        public string Name => name;
        public int Size => size;
        public int Index => index;

        public Tensor Evaluate(Primitive collective, Tensor x, Params ps)
        {
            Calls++;
            if (collective == Prims.Psum) return x * (float)size;
            if (collective == Prims.Pmax || collective == Prims.Pmin) return x;
            if (collective == Prims.AllGather) return Np.Stack(Enumerable.Repeat(x, size).ToArray(), ((AxisGatherParams)ps).Dimension);
            throw new NotSupportedException(collective.Name);
        }
    }

    static float[] F(Tensor t) => t.AsType(DType.Float32).ToArray<float>();

    [Fact]
    public void Collectives_outside_any_Vmap_use_the_bound_process_axis_eagerly_and_under_Jit()
    {
        var axis = new Replicated("procs", 3, 2);
        using (ProcessAxes.Bind(axis))
        {
            var x = Tensor.FromArray(new float[] { 1, -2 });
            Tensor Body(Tensor v) => Np.Concatenate(new[]
            {
                Psum(v, "procs"), Pmean(v, "procs"), Pmax(v, "procs"), AllGather(v, "procs").Reshape(-1),
                AxisIndex("procs").AsType(DType.Float32).Reshape(1), Tensor.Scalar(AxisSize("procs")).Reshape(1),
            });
            var expected = new float[] { 3, -6, 1, -2, 1, -2, 1, -2, 1, -2, 1, -2, 2, 3 };
            Assert.Equal(expected, F(Body(x)));
            int eager = axis.Calls;
            var jitted = Jit(Body);
            Assert.Equal(expected, F(jitted(x)));
            Assert.Equal(expected, F(jitted(x))); // the compiled program calls the axis each run
            Assert.Equal(eager * 3, axis.Calls);
            // psum's transpose is psum: d/dv sum(psum(v)) = size.
            Assert.Equal(new float[] { 3, 3 }, F(Jit(Grad((Tensor v) => Np.Sum(Psum(v, "procs"))))(x)));
        }
        var e = Assert.Throws<ArgumentException>(() => Psum(Np.Ones(new Shape(2)), "procs"));
        Assert.Contains("unbound axis name 'procs'", e.Message);
    }

    [Fact]
    public void A_Vmap_with_the_same_name_shadows_the_process_axis()
    {
        using (ProcessAxes.Bind(new Replicated("procs", 3, 0)))
        {
            var xs = Tensor.FromArray(new float[,] { { 1, 2 }, { 10, 20 } });
            var r = Vmap(a => new[] { Psum(a[0], "procs") }, new int?[] { 0 }, axisName: "procs")(new[] { xs })[0];
            Assert.Equal(new float[] { 11, 22, 11, 22 }, F(r));
            // Inside a Vmap of another name, the process axis still applies (to the batched value).
            var q = Vmap(a => new[] { Psum(a[0], "procs") }, new int?[] { 0 }, axisName: "rows")(new[] { xs })[0];
            Assert.Equal(new float[] { 3, 6, 30, 60 }, F(q));
        }
    }

    [Fact]
    public void Binding_a_name_twice_is_refused()
    {
        using (ProcessAxes.Bind(new Replicated("twice", 2, 0)))
        {
            var e = Assert.Throws<InvalidOperationException>(() => ProcessAxes.Bind(new Replicated("twice", 2, 1)));
            Assert.Contains("'twice' is already bound", e.Message);
        }
        Assert.Throws<ArgumentException>(() => ProcessAxes.Bind(new Replicated("bad", 2, 2)));
    }

    [Fact]
    public void Fused_pmean_equals_the_pmean_of_each_leaf_under_Vmap()
    {
        // Four members (mapped axis 0) of a tree with float32 and int32 leaves of several shapes.
        var rng = new Random(7);
        Tensor R(params int[] shape) => Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), shape);
        var tree = new Dictionary<string, Tensor>
        {
            ["a"] = R(4, 3, 5), ["b"] = R(4, 7), ["c"] = Np.Arange(8).Reshape(4, 2), ["d"] = R(4), ["e"] = R(4, 2, 2, 2),
        };
        Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> perLeaf = t => Tree.Map(l => Pmean(l, "i"), t);
        foreach (long bucket in new[] { 16L, 64L, GradientFusion.DefaultBucketBytes })
        {
            Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> fused = t => GradientFusion.Pmean(t, "i", bucket);
            var want = Vmap(perLeaf, 0, 0, axisName: "i")(tree);
            var got = Jit(Vmap(fused, 0, 0, axisName: "i"))(tree);
            foreach (var k in tree.Keys)
            {
                Assert.Equal(want[k].Shape, got[k].Shape);
                Assert.Equal(want[k].DType, got[k].DType);
                Assert.Equal(F(want[k]), F(got[k]));
            }
        }
    }

    [Fact]
    public void Buckets_group_by_dtype_in_order_and_respect_the_size()
    {
        var f = (int n) => new AbstractValue(new Shape(n), DType.Float32);
        var leaves = new[] { f(4), f(4), new AbstractValue(new Shape(3), DType.Int32), f(10), f(1) };
        // 16-byte buckets: [0] 16 B, [1] 16 B, [3] alone (40 B), [4]; the int leaf separately.
        var b = GradientFusion.Buckets(leaves, 16);
        Assert.Equal(new[] { new[] { 0 }, new[] { 1 }, new[] { 3 }, new[] { 4 }, new[] { 2 } }, b);
        Assert.Equal(new[] { new[] { 0, 1, 3, 4 }, new[] { 2 } }, GradientFusion.Buckets(leaves));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientFusion.Buckets(leaves, 0));
    }
}
