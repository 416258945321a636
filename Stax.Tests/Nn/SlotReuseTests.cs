using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>
/// One slot, one module: two different module instances on one slot in one call are an error
/// naming the slot; the same instance again shares its parameters, and so do modules built inline
/// in an enclosing module that is called again (as Flax and Haiku name them).
/// </summary>
public class SlotReuseTests
{
    static readonly AbstractValue In28 = new(new Shape(2, 8), DType.Float32);

    [Fact]
    public void TwoLayersOfDifferentWidthsOnOneSlotAreAnError()
    {
        var m = Module.Create((p, x, rng) => Dense(4).Call(p, Dense(8).Call(p, x)));
        Check.Throws<InvalidOperationException>(() => m.Initialize(Rng.Key(0), In28), "Module (root slot)", "two different module instances", "Dense");
    }

    [Fact]
    public void TwoLayersOfEqualWidthsOnOneSlotAreAnErrorNamingThePath()
    {
        var m = Serial(Dense(3), Module.Create((p, x, rng) => Dense(8).Call(p, Dense(8).Call(p, x)), "Pair"));
        Check.Throws<InvalidOperationException>(() => m.Initialize(Rng.Key(0), In28), "Serial/1", "two different module instances");
        // Two combinators on one slot are caught as well (their layers would share p[0]).
        var twoSerials = Module.Create((p, x, rng) => Serial(Dense(8)).Call(p, Serial(Dense(8)).Call(p, x)));
        Check.Throws<InvalidOperationException>(() => twoSerials.Initialize(Rng.Key(0), In28), "two different module instances", "Serial");
    }

    [Fact]
    public void OwnSlotsGiveOwnParameters()
    {
        var m = Module.Create((p, x, rng) => { var (p1, p2) = p; return Dense(4).Call(p2, Dense(8).Call(p1, x)); });
        var (outSpec, parameters) = m.Initialize(Rng.Key(0), In28);
        Assert.Equal(new Shape(2, 4), outSpec.Shape);
        var ps = (object?[])parameters;
        Assert.Equal(new Shape(8, 8), ((Dictionary<string, Tensor>)ps[0]!)["w"].Shape);
        Assert.Equal(new Shape(8, 4), ((Dictionary<string, Tensor>)ps[1]!)["w"].Shape);
    }

    [Fact]
    public void TheSameInstanceTwiceSharesItsParameters()
    {
        var dense = Dense(8);
        var tied = Module.Create((p, x, rng) => dense.Call(p, Np.Tanh(dense.Call(p, x))));
        var (_, parameters) = tied.Initialize(Rng.Key(0), In28);
        var d = (Dictionary<string, Tensor>)parameters;
        var x = TestData.Tensor(3, new[] { 2, 8 });
        var expected = Np.Matmul(Np.Tanh(Np.Matmul(x, d["w"]) + d["b"]), d["w"]) + d["b"];
        Check.Close(expected.ToDoubleArray(), tied.Apply(parameters, x, training: false).ToDoubleArray(), 1e-6, 1e-6);
    }

    [Fact]
    public void LayersBuiltInsideAModuleCalledTwiceShareParameters()
    {
        // The inner Dense is a new instance on each call of `block`; calling block again on the same
        // slot is reuse, so both calls use one parameter set (Flax's compact modules, Haiku).
        var block = Module.Create((p, x, rng) => Np.Tanh(Dense(8).Call(p, x)), "Block");
        var twice = Module.Create((p, x, rng) => block.Call(p, block.Call(p, x)));
        var (_, parameters) = twice.Initialize(Rng.Key(0), In28);
        var d = (Dictionary<string, Tensor>)parameters;
        var x = TestData.Tensor(4, new[] { 2, 8 });
        var once = Np.Tanh(Np.Matmul(x, d["w"]) + d["b"]);
        var expected = Np.Tanh(Np.Matmul(once, d["w"]) + d["b"]);
        Check.Close(expected.ToDoubleArray(), twice.Apply(parameters, x, training: false).ToDoubleArray(), 1e-6, 1e-6);
    }

    [Fact]
    public void ARebuiltLayerThatNeedsOtherShapesIsAnError()
    {
        // A module whose inner layer differs from call to call cannot share that layer's parameters.
        int calls = 0;
        var shifting = Module.Create((p, x, rng) => Dense(++calls == 1 ? 8 : 4).Call(p, x), "Shifting");
        var twice = Module.Create((p, x, rng) => shifting.Call(p, shifting.Call(p, x)));
        Check.Throws<ArgumentException>(() => twice.Initialize(Rng.Key(0), In28), "another Dense instance", "different parameter shapes");
    }
}
