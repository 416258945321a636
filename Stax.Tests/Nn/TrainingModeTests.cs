using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Training or inference is an explicit argument of every apply path.</summary>
public class TrainingModeTests
{
    static void AssertDropped(Tensor x, Tensor y, double keep)
    {
        var xs = x.ToDoubleArray();
        var ys = y.ToDoubleArray();
        int zeros = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            if (ys[i] == 0) { zeros++; continue; }
            Assert.Equal(xs[i] / keep, ys[i], 5);                   // kept elements are scaled by 1/keep
        }
        Assert.InRange(zeros, 1, xs.Length - 1);                     // some, not all, dropped
    }

    [Fact]
    public void ApplyInTrainingDropsWithTheGivenKey()
    {
        var model = Serial(Dense(16), Dropout(keepProbability: 0.5));
        var x = TestData.Tensor(1, new[] { 8, 4 });
        var (_, p) = model.Initialize(Rng.Key(0), x);
        var clean = model.Apply(p, x, training: false);
        AssertDropped(clean, model.Apply(p, x, training: true, rng: Rng.Key(1)), 0.5);
        Assert.Equal(clean.ToDoubleArray(), model.Apply(p, x, training: false, rng: Rng.Key(1)).ToDoubleArray());
        // The classic stax pair takes the same flag.
        var (_, apply) = model;
        AssertDropped(clean, apply(p, x, training: true, rng: Rng.Key(1)), 0.5);
        Assert.Equal(clean.ToDoubleArray(), apply(p, x, training: false).ToDoubleArray());
    }

    [Fact]
    public void BatchNormInferenceWithoutStateIsAnErrorNamingTheSlot()
    {
        var model = Serial(Dense(3), BatchNorm(new[] { 0 }));
        var x = TestData.Tensor(2, new[] { 6, 4 });
        var (_, p, s) = model.InitializeWithState(Rng.Key(0), x.Aval);
        Check.Throws<ArgumentException>(() => model.Apply(p, x, training: false), "Serial/1/BatchNorm", "running averages", "ApplyWithState");
        var (_, apply) = model;
        Check.Throws<ArgumentException>(() => apply(p, x, training: false), "Serial/1/BatchNorm", "ApplyWithState");
        // With the state, inference normalises with the running averages (initially mean 0, var 1).
        var h = Serial(Dense(3)).Apply(new[] { ((object?[])p)[0] }, x, training: false);
        var bn = (Dictionary<string, Tensor>)((object?[])p)[1]!;
        var expected = h / Math.Sqrt(1 + 1e-5) * bn["gamma"] + bn["beta"];
        var (y, _) = model.ApplyWithState(p, s, x, training: false);
        Check.Close(expected.ToDoubleArray(), ((Tensor)y).ToDoubleArray(), 1e-5, 1e-6);
    }
}
