using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

public class HarvestTests
{
    static Tensor F(Tensor x)
    {
        var h = Harvest.Sow("hidden", Lax.Sin(x) * 2.0);
        return Np.Sum(h * h);
    }

    [Fact]
    public void ReapCollectsAndPlantReplaces()
    {
        var x = Tensor.FromArray(new double[] { 0.1, 0.2 });
        var (y, reaped) = Harvest.Reap(F)(x);
        Check.Close(x.ToDoubleArray().Select(v => 2 * Math.Sin(v)).ToArray(), reaped["hidden"].ToDoubleArray(), 1e-15);
        Assert.Equal(reaped["hidden"].ToDoubleArray().Sum(v => v * v), y.Item<double>(), 14);
        var planted = Harvest.Plant(F, new Dictionary<string, Tensor> { ["hidden"] = Tensor.FromArray(new double[] { 3, 4 }) })(x);
        Assert.Equal(25.0, planted.Item<double>());
        Assert.Equal(F(x).Item<double>(), y.Item<double>());     // without Reap, Sow is the identity
    }

    [Fact]
    public void ReapWorksUnderJitOnEveryCacheHit()
    {
        var jf = Jit((Tensor v) => F(v));
        var reap = Harvest.Reap(jf);
        var (_, r1) = reap(Tensor.FromArray(new double[] { 0.1, 0.2 }));
        var (_, r2) = reap(Tensor.FromArray(new double[] { 0.3, 0.4 }));       // cache hit: new values
        Assert.Equal(2 * Math.Sin(0.3), r2["hidden"].ToDoubleArray()[0], 15);
        Assert.Equal(2 * Math.Sin(0.1), r1["hidden"].ToDoubleArray()[0], 15);
        var planted = Harvest.Plant(jf, new Dictionary<string, Tensor> { ["hidden"] = Tensor.FromArray(new double[] { 1, 1 }) })(Tensor.FromArray(new double[] { 5, 6 }));
        Assert.Equal(2.0, planted.Item<double>());
        Assert.Contains("sow[name=hidden]", MakeJaxpr(F, Tensor.FromArray(new double[] { 1, 2 })).ToString());
    }

    [Fact]
    public void ReapWorksWithGradAndVmap()
    {
        var x = Tensor.FromArray(new double[] { 0.1, 0.2 });
        var (g, reaped) = Harvest.Reap(Grad(F))(x);
        Check.Close(x.ToDoubleArray().Select(v => 8 * Math.Sin(v) * Math.Cos(v)).ToArray(), g.ToDoubleArray(), 1e-14);
        Assert.Equal(2 * Math.Sin(0.2), reaped["hidden"].ToDoubleArray()[1], 15);
        var xs = Tensor.FromArray(new double[,] { { 0.1, 0.2 }, { 0.3, 0.4 } });
        var perRow = Vmap((Tensor row) => Harvest.Reap(F)(row).Reaped["hidden"])(xs);
        Assert.Equal(new Shape(2, 2), perRow.Shape);
        Assert.Equal(2 * Math.Sin(0.4), perRow.ToDoubleArray()[3], 15);
    }

    [Fact]
    public void SowInsideAModule()
    {
        var block = Module.Create((p, x, rng) =>
        {
            var (p1, p2) = p;
            var h = Harvest.Sow("features", Layers.Relu.Call(p2, Layers.Dense(4).Call(p1, x)));
            return h * 2.0;
        }, "Block");
        var x = TestData.Tensor(3, new[] { 2, 3 });
        var (_, parameters) = block.Initialize(Rng.Key(0), x);
        var (y, reaped) = Harvest.Reap((Tensor v) => block.Apply(parameters, v, training: false))(x);
        Check.Close((reaped["features"] * 2.0).ToDoubleArray(), y.ToDoubleArray());
    }
}
