using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Named rng streams (Flax's rngs / make_rng) and Dropout with Flax's rate.</summary>
public class RngStreamTests
{
    static readonly Tensor X = Tensor.Ones(new Shape(4, 50));

    static bool[] Kept(Tensor y) => y.ToDoubleArray().Select(v => v != 0).ToArray();

    [Fact]
    public void DropoutInACustomModuleDrawsFromTheStepKey()
    {
        var drop = Dropout(rate: 0.5);
        // Two slots, and the first slot's layer called twice: three different masks.
        var model = Module.Create((p, x) => Np.Stack(new[] { drop.Call(p["a"], x), drop.Call(p["b"], x), drop.Call(p["a"], x) }), "Three");
        var (_, parameters) = model.Initialize(Rng.Key(0), X);
        var y = model.Apply(parameters, X, training: true, rng: Rng.Key(7));
        var masks = Enumerable.Range(0, 3).Select(i => Kept(y[i])).ToArray();
        Assert.NotEqual(masks[0], masks[1]);
        Assert.NotEqual(masks[0], masks[2]);
        Assert.All(y.ToDoubleArray(), v => Assert.True(v == 0 || v == 2));       // kept elements scaled by 1/(1 - rate)
        // Deterministic in the keys; a named stream key works the same way and overrides the derived one.
        Assert.Equal(y.ToDoubleArray(), model.Apply(parameters, X, training: true, rng: Rng.Key(7)).ToDoubleArray());
        var s1 = model.Apply(parameters, X, training: true, rngs: new() { ["dropout"] = Rng.Key(3) });
        var s2 = model.Apply(parameters, X, training: true, rng: Rng.Key(7), rngs: new() { ["dropout"] = Rng.Key(3) });
        Assert.Equal(s1.ToDoubleArray(), s2.ToDoubleArray());
        Assert.NotEqual(y.ToDoubleArray(), s1.ToDoubleArray());
        // Inference needs no key and changes nothing.
        Assert.Equal(X.ToDoubleArray().Concat(X.ToDoubleArray()).Concat(X.ToDoubleArray()), model.Apply(parameters, X, training: false).ToDoubleArray());
        Check.Throws<ArgumentException>(() => model.Apply(parameters, X, training: true), "Three/a/Dropout", "Dropout needs an rng key", "rngs");
    }

    [Fact]
    public void AnExplicitKeyWinsOverTheStream()
    {
        var drop = Dropout(rate: 0.3);
        var key = Rng.Key(11);
        var model = Module.Create((p, x) => drop.Call(p, x, key), "Explicit");
        var (_, parameters) = model.Initialize(Rng.Key(0), X);
        var y = model.Apply(parameters, X, training: true, rng: Rng.Key(5));
        // Flax: mask = bernoulli(key, 1 - rate, shape); select(mask, x / (1 - rate), 0).
        var mask = Rng.Bernoulli(key, Tensor.Scalar(0.7), X.Shape).ToDoubleArray();
        Numerics.Close(mask.Select(m => m != 0 ? 1 / 0.7 : 0.0).ToArray(), y.ToDoubleArray(), 1e-6, 0, "explicit key");
    }

    [Fact]
    public void RateIsTheDropProbabilityAndBroadcastDimsShareTheMask()
    {
        var big = Tensor.Ones(new Shape(200, 100));
        var (_, p) = Dropout(rate: 0.25).Initialize(Rng.Key(0), big);
        var kept = Kept(Dropout(rate: 0.25).Apply(p, big, training: true, rng: Rng.Key(1))).Count(k => k) / 20000.0;
        Assert.InRange(kept, 0.74, 0.76);
        Assert.All(Dropout(rate: 1).Apply(p, big, training: true, rng: Rng.Key(1)).ToDoubleArray(), v => Assert.Equal(0.0, v));
        Assert.Equal(big.ToDoubleArray(), Dropout(rate: 0).Apply(p, big, training: true).ToDoubleArray());
        // The stax spelling is the keep probability.
        var keptStax = Kept(Dropout(0.25).Apply(p, big, training: true, rng: Rng.Key(1))).Count(k => k) / 20000.0;
        Assert.InRange(keptStax, 0.24, 0.26);
        Check.Throws<ArgumentException>(() => Dropout(), "exactly one of keepProbability");
        Check.Throws<ArgumentException>(() => Dropout(0.5, rate: 0.5), "exactly one of keepProbability");

        var rows = Dropout(rate: 0.5, broadcastDims: new[] { 0 }).Apply(p, big, training: true, rng: Rng.Key(2));
        var first = Kept(rows[0]);
        for (int i = 1; i < 200; i += 37) Assert.Equal(first, Kept(rows[i]));
    }

    [Fact]
    public void MakeRngGivesEachCallItsOwnKeyAndNamesMissingStreams()
    {
        var noisy = Module.Create((p, x) => x + Rng.Normal(p.MakeRng("noise"), x.Shape.ToArray()) + Rng.Normal(p["inner"].MakeRng("noise"), x.Shape.ToArray()), "Noisy");
        var x = Tensor.Zeros(new Shape(3));
        var (_, parameters) = noisy.Initialize(Rng.Key(0), x);
        var a = noisy.Apply(parameters, x, training: false, rngs: new() { ["noise"] = Rng.Key(1) }).ToDoubleArray();
        Assert.Equal(a, noisy.Apply(parameters, x, training: false, rngs: new() { ["noise"] = Rng.Key(1) }).ToDoubleArray());
        Assert.NotEqual(a, noisy.Apply(parameters, x, training: false, rngs: new() { ["noise"] = Rng.Key(2) }).ToDoubleArray());
        Check.Throws<ArgumentException>(() => noisy.Apply(parameters, x, training: false), "Noisy", "rng stream 'noise'");
        // Two draws in one slot differ (a per-slot counter).
        var twice = Module.Create((p, t) => Np.Stack(new[] { Rng.Normal(p.MakeRng("s"), new[] { 4 }), Rng.Normal(p.MakeRng("s"), new[] { 4 }) }), "Twice");
        var (_, pt) = twice.Initialize(Rng.Key(0), x);
        var draws = twice.Apply(pt, x, training: false, rng: Rng.Key(9));
        Assert.NotEqual(draws[0].ToDoubleArray(), draws[1].ToDoubleArray());
    }

    [Fact]
    public void StreamsWorkUnderJitWithATracedKey()
    {
        var inner = Module.Create((p, x) => Dropout(rate: 0.5).Call(p, x), "Inline");
        var (_, parameters) = inner.Initialize(Rng.Key(0), X);
        var jitted = Transforms.Jit((Key k) => inner.Apply(parameters, X, training: true, rngs: new() { ["dropout"] = k }));
        var eager = inner.Apply(parameters, X, training: true, rngs: new() { ["dropout"] = Rng.Key(4) });
        Assert.Equal(eager.ToDoubleArray(), jitted(Rng.Key(4)).ToDoubleArray());
        Assert.NotEqual(eager.ToDoubleArray(), jitted(Rng.Key(5)).ToDoubleArray());
    }

    [Fact]
    public void DropoutGradientIsTheMaskOverKeep()
    {
        // d/dx Σ w·dropout(x) = w · mask / keep (the mask read off the output of the same key).
        var drop = Dropout(rate: 0.4);
        var x = TestData.Tensor(3, new[] { 6, 7 }, DType.Float64, 0.5, 1.5);
        var w = Numerics.Tensor64(4, 6, 7);
        var (_, p) = drop.Initialize(Rng.Key(0), x);
        var y = drop.Apply(p, x, training: true, rng: Rng.Key(8)).ToDoubleArray();
        var g = Transforms.Grad((Tensor t) => Np.Sum(drop.Apply(p, t, training: true, rng: Rng.Key(8)) * w))(x).ToDoubleArray();
        var ws = w.ToDoubleArray();
        Numerics.Close(y.Select((v, i) => v != 0 ? ws[i] / 0.6 : 0.0).ToArray(), g, 1e-12, 1e-12, "d/dx");
        Assert.Contains(y, v => v == 0);
    }
}
