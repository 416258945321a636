using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Slot.Param: raw parameters inside an apply-only module (Flax's self.param).</summary>
public class RawParamTests
{
    static readonly Module Dense4 = Dense(4);

    // A dense layer plus learned positions: y = dense(x) + pos.
    static readonly Module Positional = Module.Create((p, x) =>
        Dense4.Call(p["dense"], x) + p.Param("pos", new Shape(x.Shape[-2], 4), Initializers.Normal(0.5)), "Positional");

    [Fact]
    public void ParamIsCreatedOnceBesideNamedSlotsAndUsedAtApply()
    {
        var x = TestData.Tensor(1, new[] { 2, 3, 5 });
        var (o, parameters) = Positional.Initialize(Rng.Key(0), x);
        Assert.Equal(new Shape(2, 3, 4), o.Shape);
        var tree = (Dictionary<string, object?>)parameters;
        Assert.Equal(new[] { "dense", "pos" }, tree.Keys.OrderBy(k => k));
        var pos = (Tensor)tree["pos"]!;
        Assert.Equal(new Shape(3, 4), pos.Shape);
        Assert.Equal(DType.Float32, pos.DType);
        // Keys derive from the slot path: the same seed gives the same values, another seed others.
        Assert.Equal(pos.ToDoubleArray(), ((Tensor)((Dictionary<string, object?>)Positional.Initialize(Rng.Key(0), x).Parameters)["pos"]!).ToDoubleArray());
        Assert.NotEqual(pos.ToDoubleArray(), ((Tensor)((Dictionary<string, object?>)Positional.Initialize(Rng.Key(1), x).Parameters)["pos"]!).ToDoubleArray());

        // Apply: dense(x) + pos, recomputed in double from the parameter values.
        var d = (Dictionary<string, Tensor>)tree["dense"]!;
        double[] w = d["w"].ToDoubleArray(), b = d["b"].ToDoubleArray(), xs = x.ToDoubleArray(), ps = pos.ToDoubleArray();
        var expected = new double[2 * 3 * 4];
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < 4; j++)
            {
                double s = b[j] + ps[(r % 3) * 4 + j];
                for (int i = 0; i < 5; i++) s += xs[r * 5 + i] * w[i * 4 + j];
                expected[r * 4 + j] = s;
            }
        Numerics.Close(expected, Positional.Apply(parameters, x, training: false).ToDoubleArray(), 1e-5, 1e-5, "apply");

        // d/dpos of Σ y·u is u summed over the batch.
        var u = Numerics.Values(2, 24).Select(v => (float)v).ToArray();
        var ut = Tensor.FromArray(u, 2, 3, 4);
        var g = Transforms.Grad((object p) => Np.Sum(Positional.Apply(p, x, training: false) * ut))(parameters);
        var gpos = ((Tensor)((Dictionary<string, object?>)g)["pos"]!).ToDoubleArray();
        Numerics.Close(Enumerable.Range(0, 12).Select(i => (double)u[i] + u[12 + i]).ToArray(), gpos, 1e-6, 1e-6, "d/dpos");
    }

    [Fact]
    public void TheSameNameIsTheSameParameter()
    {
        // Used twice: one parameter, and its gradient sums both uses.
        var twice = Module.Create((p, x) => x * p.Param("g", new Shape(3), Initializers.Ones()) * p.Param("g", new Shape(3), Initializers.Ones()), "Twice");
        var x = Tensor.FromArray(new[] { 1f, 2, 3 });
        var (_, parameters) = twice.Initialize(Rng.Key(0), x);
        Assert.Single(Tree.Leaves(parameters));
        var g = Transforms.Grad((object p) => Np.Sum(twice.Apply(p, x, training: false)))(parameters);
        Assert.Equal(new[] { 2.0, 4, 6 }, Tree.Leaves(g)[0].ToDoubleArray());          // d(x g²)/dg = 2 x g, g = 1
        // Another shape under the same name is an error naming the slot path.
        var clash = Module.Create((p, x) => x * p.Param("g", new Shape(3), Initializers.Ones()) + p.Param("g", new Shape(1), Initializers.Ones()), "Clash");
        Check.Throws<ArgumentException>(() => clash.Initialize(Rng.Key(0), x), "Clash/g", "float32(3,)", "float32(1,)");
        // A name that already holds a layer cannot hold a raw parameter.
        var mixed = Module.Create((p, x) => Dense4.Call(p["d"], x) + p.Param("d", new Shape(4), Initializers.Zeros()), "Mixed");
        Check.Throws<InvalidOperationException>(() => mixed.Initialize(Rng.Key(0), x), "Mixed/d", "raw parameter");
    }

    [Fact]
    public void ApplyChecksTheParameterAndNamesItsPath()
    {
        var x = TestData.Tensor(1, new[] { 2, 3, 5 });
        var (_, parameters) = Positional.Initialize(Rng.Key(0), x);
        var longer = TestData.Tensor(1, new[] { 2, 6, 5 });
        Check.Throws<ArgumentException>(() => Positional.Apply(parameters, longer, training: false), "Positional/pos", "float32(3, 4)", "float32(6, 4)");
        var tree = new Dictionary<string, object?>((Dictionary<string, object?>)parameters) { ["pos"] = new object?[0] };
        Check.Throws<ArgumentException>(() => Positional.Apply(tree, x, training: false), "Positional/pos", "expected a parameter tensor");
        tree.Remove("pos");
        Check.Throws<ArgumentException>(() => Positional.Apply(tree, x, training: false), "no parameters named 'pos'");
    }
}
