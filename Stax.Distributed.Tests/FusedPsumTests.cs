using static Stax.Transforms;

namespace Stax.Distributed.Tests;

/// <summary>
/// psum_fused without MPI: over a stand-in process axis whose <c>size</c> members all hold this
/// process's value (psum is size·x), it must give what psum of each operand gives, under Jit,
/// Grad, Jvp and Vmap, and a fused gradient mean must be one equation per bucket.
/// </summary>
public sealed class FusedPsumTests
{
    sealed class Replicated(string name, int size) : IProcessAxis
    {
        public int Calls;
        public string Name => name;
        public int Size => size;
        public int Index => 0;

        public Tensor Evaluate(Primitive collective, Tensor x, Params ps)
        {
            Calls++;
            return collective == Prims.Psum ? x * (float)size : throw new NotSupportedException(collective.Name);
        }
    }

    static float[] F(Tensor t) => t.AsType(DType.Float32).ToArray<float>();

    static Dictionary<string, Tensor> Tree3()
    {
        var rng = new Random(3);
        Tensor R(params int[] shape) => Tensor.FromArray(
            Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(),
            shape);
        return new() { ["w"] = R(3, 5), ["b"] = R(5), ["n"] = Np.Arange(4).Reshape(2, 2), ["v"] = R(7) };
    }

    [Fact]
    public void Fused_pmean_over_a_process_axis_is_one_equation_per_bucket_and_equals_Pmean_of_each_leaf()
    {
        var axis = new Replicated("procs", 3);
        using (ProcessAxes.Bind(axis))
        {
            var tree = Tree3();
            // The per-leaf reference: Pmean is psum then a division by the axis size (int32 leaves
            // become float32 first), so the fused mean must give the same bits.
            var want = Tree.Map(l => Pmean(l, "procs"), tree);
            foreach (long bucket in new[] { 8L, GradientFusion.DefaultBucketBytes })
            {
                Func<Dictionary<string, Tensor>, Dictionary<string, Tensor>> fused =
                    t => GradientFusion.Pmean(t, "procs", bucket);
                var program = MakeJaxpr(fused, tree).Jaxpr;
                int buckets = GradientFusion.Buckets(Tree.Leaves(tree).Select(l => l.Aval).ToArray(), bucket).Count;
                Assert.Equal(buckets, program.Eqns.Count(e => e.Primitive == FusedPsum.Primitive));
                Assert.DoesNotContain(program.Eqns, e => e.Primitive == Prims.Concatenate || e.Primitive == Prims.Psum);
                foreach (var got in new[] { fused(tree), Jit(fused)(tree) })
                    foreach (var k in tree.Keys)
                    {
                        Assert.Equal(want[k].Shape, got[k].Shape);
                        Assert.Equal(want[k].DType, got[k].DType);
                        Assert.Equal(F(want[k]), F(got[k]));
                    }
            }
        }
    }

    [Fact]
    public void Fused_psum_differentiates_and_batches_like_psum_of_each_operand()
    {
        using (ProcessAxes.Bind(new Replicated("procs", 3)))
        {
            var x = Tensor.FromArray(new float[] { 1, -2, 4 });
            // d/dv [sum(psum(v)) + sum(psum(2v) * w)] = 3 + 6w: psum's transpose is psum.
            var w = Tensor.FromArray(new float[] { 1, 10, 100 });
            Tensor Loss(Tensor v)
            {
                var s = FusedPsum.Bind(new[] { v, v * 2f }, "procs");
                return Np.Sum(s[0]) + Np.Sum(s[1] * w);
            }
            Assert.Equal(new float[] { 9, 63, 603 }, F(Grad(Loss)(x)));
            Assert.Equal(new float[] { 9, 63, 603 }, F(Jit(Grad(Loss))(x)));
            // Forward mode: the tangent is summed too.
            var (p, t) = Jvp((Tensor v) => FusedPsum.Bind(new[] { v, v * v }, "procs")[1],
                             x, Tensor.FromArray(new float[] { 1, 1, 1 }));
            Assert.Equal(new float[] { 3, 12, 48 }, F(p));
            Assert.Equal(new float[] { 6, -12, 24 }, F(t));

            var rows = Tensor.FromArray(new float[,] { { 1, 2 }, { 10, 20 } });
            var ps = new CollectiveParams("procs");
            // A Vmap of another name passes the mapped dimension through to the process axis.
            var other = Vmap(a => FusedPsum.Primitive.Bind(ps, a[0], a[0] * 2f), new int?[] { 0 }, axisName: "rows")(
                new[] { rows });
            Assert.Equal(new float[] { 3, 6, 30, 60 }, F(other[0]));
            Assert.Equal(new float[] { 6, 12, 60, 120 }, F(other[1]));
            // A Vmap with the axis's own name sums over its members instead (mapped and unmapped operands).
            var same = Vmap(a => FusedPsum.Primitive.Bind(ps, a[0], x), new int?[] { 0 }, axisName: "procs")(new[] { rows });
            Assert.Equal(new float[] { 11, 22, 11, 22 }, F(same[0]));
            Assert.Equal(new float[] { 2, -4, 8, 2, -4, 8 }, F(same[1]));
        }
    }

    [Fact]
    public void Fused_psum_needs_a_bound_axis_and_binds_nothing_for_no_operands()
    {
        var e = Assert.Throws<ArgumentException>(() => FusedPsum.Bind(new[] { Np.Ones(new Shape(2)) }, "nowhere"));
        Assert.Contains("unbound axis name 'nowhere'", e.Message);
        using (ProcessAxes.Bind(new Replicated("procs", 2)))
        {
            Assert.Empty(FusedPsum.Bind(Array.Empty<Tensor>(), "procs"));
        }
    }
}
