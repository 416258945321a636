using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Apply checks every leaf's parameters (container type, keys, shapes) and names the slot path.</summary>
public class ParameterCheckTests
{
    static readonly Tensor X = TestData.Tensor(1, new[] { 2, 4 });

    static object Params(Module m) => m.Initialize(Rng.Key(0), X).Parameters;

    [Fact]
    public void ParametersOfANarrowerModelDoNotRunSilently()
    {
        var narrow = Params(Serial(Dense(8), Relu, Dense(3)));
        var wide = Serial(Dense(16), Relu, Dense(3));
        Check.Throws<ArgumentException>(() => wide.Apply(narrow, X, training: false), "Serial/0/Dense", "[\"w\"] has shape (4, 8), not (4, 16)");
    }

    [Fact]
    public void OtherKeysNameTheSlotAndTheDifference()
    {
        var dense = Params(Serial(Dense(4)));
        var e = Check.Throws<ArgumentException>(() => Serial(BatchNorm(new[] { 0 })).Apply(dense, X, training: true), "Serial/0/BatchNorm", "expected children");
        Assert.Contains("beta", e.Message);
    }

    [Fact]
    public void AnotherContainerTypeIsNamed()
    {
        var p = (Dictionary<string, Tensor>)Params(Dense(3));
        var loose = new Dictionary<string, object?> { ["w"] = p["w"], ["b"] = p["b"] };
        Check.Throws<ArgumentException>(() => Dense(3).Apply(loose, X, training: false), "Dense", "Dictionary<string, object>", "Dictionary<string, Tensor>");
    }

    [Fact]
    public void ShiftedListsAndWrongNodesAreNamed()
    {
        var p = Params(Serial(Dense(4), Relu));
        Check.Throws<ArgumentException>(() => Serial(Relu, Dense(4)).Apply(p, X, training: false), "Serial/1/Dense", "object[]");
        Check.Throws<ArgumentException>(() => Serial(Dense(4), Relu, Dense(2)).Apply(p, X, training: false), "Serial (root slot)", "2 entries");
        Check.Throws<ArgumentException>(() => Serial(Dense(4)).Apply(X, X, training: false), "Serial (root slot)", "a tensor");
    }

    [Fact]
    public void StateIsCheckedToo()
    {
        var bn = Serial(Dense(4), BatchNorm(new[] { 0 }));
        var (_, p, s) = bn.InitializeWithState(Rng.Key(0), X.Aval);
        var (_, _, otherState) = Serial(Dense(5), BatchNorm(new[] { 0 })).InitializeWithState(Rng.Key(0), X.Aval);
        Check.Throws<ArgumentException>(() => bn.ApplyWithState(p, otherState, X, training: false), "Serial/1/BatchNorm", "state", "(5,), not (4,)");
        Assert.Equal(new Shape(2, 4), ((Tensor)bn.ApplyWithState(p, s, X, training: false).Output).Shape);
    }
}
