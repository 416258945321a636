using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

public class ModuleTests
{
    // The seed's examples, written once as apply functions.
    static Module Foo(Module module1, Module module2) => Module.Create((p, x, rng) =>
    {
        var (p1, p2) = p;                  // two parameter slots
        var h = module1.Call(p1, x);
        h = module2.Call(p2, h);
        return module1.Call(p1, h);        // same slot again: reuse
    }, "Foo");

    static Module Bar(Module module1, Module module2) => Module.Create((p, x, rng) =>
    {
        var (p1, p2) = p;
        var (r1, r2, r3) = rng;            // one key split three ways
        var h = module1.Call(p1, x, r1);
        h = module2.Call(p2, h, r2);
        return module1.Call(p1, h, r3);
    }, "Bar");

    static Tensor Input(params int[] shape) => TestData.Tensor(1, shape);

    [Fact]
    public void FooReusesParametersCreatedOnce()
    {
        var foo = Foo(Dense(10), Relu);
        var (outSpec, parameters) = foo.Initialize(Rng.Key(0), new AbstractValue(new Shape(8, 10), DType.Float32));
        Assert.Equal(new AbstractValue(new Shape(8, 10), DType.Float32), outSpec);
        var ps = (object?[])parameters;
        Assert.Equal(2, ps.Length);
        var dense = (Dictionary<string, Tensor>)ps[0]!;
        Assert.Equal(new Shape(10, 10), dense["w"].Shape);
        Assert.Equal(new Shape(10), dense["b"].Shape);
        Assert.Empty((object?[])ps[1]!);                      // Relu has no parameters
        var x = Input(8, 10);
        var y = foo.Apply(parameters, x, training: false);
        // Hand-composed: dense(relu(dense(x))) with the same parameters twice.
        var w = dense["w"]; var b = dense["b"];
        var expected = Np.Matmul(Np.Relu(Np.Matmul(x, w) + b), w) + b;
        Check.Close(expected.ToDoubleArray(), y.ToDoubleArray(), 1e-6, 1e-6);
    }

    [Fact]
    public void ReuseWithAnIncompatibleInputNamesTheSlot()
    {
        var foo = Foo(Dense(10), Dense(7));                       // second use of slot 0 sees 7 features
        var e = Check.Throws<ArgumentException>(() => foo.Initialize(Rng.Key(0), new AbstractValue(new Shape(8, 10), DType.Float32)), "Foo/0/Dense", "(8, 10)");
        Assert.Contains("(8, 7)", e.Message);
    }

    [Fact]
    public void BarSplitsKeysLikeParameters()
    {
        var bar = Bar(Dropout(0.5), Dropout(0.5));
        var x = Np.Ones(new Shape(4, 6));
        var (_, parameters) = bar.Initialize(Rng.Key(0), x);
        var (y1, _) = bar.ApplyWithState(parameters, null, x, training: true, rng: Rng.Key(1));
        var (y2, _) = bar.ApplyWithState(parameters, null, x, training: true, rng: Rng.Key(1));
        var (y3, _) = bar.ApplyWithState(parameters, null, x, training: true, rng: Rng.Key(2));
        Assert.Equal(((Tensor)y1).ToDoubleArray(), ((Tensor)y2).ToDoubleArray());    // same key, same masks
        Assert.NotEqual(((Tensor)y1).ToDoubleArray(), ((Tensor)y3).ToDoubleArray());
        Assert.Equal(x.ToDoubleArray(), bar.Apply(parameters, x, training: false).ToDoubleArray());   // inference: identity
        Check.Throws<ArgumentException>(() => bar.ApplyWithState(parameters, null, x, training: true), "Dropout needs an rng");
    }

    [Fact]
    public void SerialDeconstructsIntoTheClassicPair()
    {
        var (init, apply) = Serial(Dense(512), Relu, Dense(10), LogSoftmax);
        var (outShape, parameters) = init(Rng.Key(0), new[] { -1, 784 });
        Assert.Equal(new[] { -1, 10 }, outShape);
        var ps = (object?[])parameters;
        Assert.Equal(new Shape(784, 512), ((Dictionary<string, Tensor>)ps[0]!)["w"].Shape);
        Assert.Equal(new Shape(512, 10), ((Dictionary<string, Tensor>)ps[2]!)["w"].Shape);
        var y = apply(parameters, Input(3, 784), training: false);
        Assert.Equal(new Shape(3, 10), y.Shape);
        var rowSums = Np.Sum(Np.Exp(y), axis: -1).ToDoubleArray();
        Assert.All(rowSums, s => Assert.Equal(1.0, s, 5));
    }

    [Fact]
    public void BatchPlaceholderThatChangesParametersIsAnError()
    {
        var (init, _) = Serial(Flatten, Dense(3));
        // Flatten of (-1, 4) keeps the batch dimension: fine. Flattening the batch into features is not.
        Assert.Equal(new[] { -1, 3 }, init(Rng.Key(0), new[] { -1, 4 }).OutputShape);
        var badFlatten = Module.Function("FlattenAll", x => Np.Reshape(x, 1, -1));
        var (badInit, _) = Serial(badFlatten, Dense(3));
        Check.Throws<ArgumentException>(() => badInit(Rng.Key(0), new[] { -1, 4 }), "batch dimension", "-1");
    }

    [Fact]
    public void ParameterKeysFollowSlotPathsNotCallOrder()
    {
        // Two modules that use their slots in opposite orders get the same parameters per slot.
        var a = Module.Create((p, x, rng) => { var (p1, p2) = p; var h = Dense(4).Call(p1, x); return Dense(4).Call(p2, h); });
        var b = Module.Create((p, x, rng) => { var (p1, p2) = p; var h = Dense(4).Call(p2, x); return Dense(4).Call(p1, h); });
        var spec = new AbstractValue(new Shape(2, 4), DType.Float32);
        var pa = (object?[])a.Initialize(Rng.Key(3), spec).Parameters;
        var pb = (object?[])b.Initialize(Rng.Key(3), spec).Parameters;
        for (int i = 0; i < 2; i++)
            Assert.Equal(((Dictionary<string, Tensor>)pa[i]!)["w"].ToDoubleArray(), ((Dictionary<string, Tensor>)pb[i]!)["w"].ToDoubleArray());
        Assert.NotEqual(((Dictionary<string, Tensor>)pa[0]!)["w"].ToDoubleArray(), ((Dictionary<string, Tensor>)pa[1]!)["w"].ToDoubleArray());
        // ... and do not depend on the apply-time rng.
        var pc = (object?[])a.Initialize(Rng.Key(3), spec).Parameters;
        Assert.Equal(((Dictionary<string, Tensor>)pa[1]!)["b"].ToDoubleArray(), ((Dictionary<string, Tensor>)pc[1]!)["b"].ToDoubleArray());
    }

    [Fact]
    public void InitializeRunsNoArithmeticBeyondCreatingParameters()
    {
        var model = Serial(Dense(32), Relu, Dense(32), Tanh, Dense(5), LogSoftmax);
        var spec = new AbstractValue(new Shape(16, 8), DType.Float32);
        var ran = new List<string>();
        using (Tracing.EvalTrace.Observe(p => ran.Add(p.Name)))
            model.Initialize(Rng.Key(0), spec);
        // Parameter creation runs random-number primitives; the forward pass must not run at all.
        Assert.Contains("threefry2x32", ran);
        Assert.DoesNotContain("dot_general", ran);
        Assert.DoesNotContain("tanh", ran);
        Assert.DoesNotContain("reduce_max", ran);
        // The same check on the counting backend: applying runs kernels, initializing none of the forward ones.
        var applied = new List<string>();
        var (_, parameters) = model.Initialize(Rng.Key(0), spec);
        using (Tracing.EvalTrace.Observe(p => applied.Add(p.Name)))
            model.Apply(parameters, Np.Zeros(new Shape(16, 8)), training: false);
        Assert.Contains("dot_general", applied);
        Assert.Contains("tanh", applied);
    }

    [Fact]
    public void VmappedModuleInitializesUnbatchedParameters()
    {
        var inner = Serial(Dense(3), Tanh);
        var mapped = Vmap(inner, inAxis: 1, outAxis: 0);
        var (outSpec, parameters) = mapped.Initialize(Rng.Key(0), new AbstractValue(new Shape(5, 7, 4), DType.Float32));
        Assert.Equal(new Shape(7, 5, 3), outSpec.Shape);
        Assert.Equal(new Shape(4, 3), ((Dictionary<string, Tensor>)((object?[])parameters)[0]!)["w"].Shape);
        var x = TestData.Tensor(2, new[] { 5, 7, 4 });
        var y = mapped.Apply(parameters, x, training: false);
        for (int j = 0; j < 7; j++)
            Check.Close(inner.Apply(parameters, x[.., j], training: false).ToDoubleArray(), y[j].ToDoubleArray(), 1e-6, 1e-6);
    }

    [Fact]
    public void EnsemblesByVmappingInitializeOverKeys()
    {
        var model = Serial(Dense(3), Relu, Dense(2));
        var spec = new AbstractValue(new Shape(4, 5), DType.Float32);
        var keys = Rng.Split(Rng.Key(0), new Shape(3));                     // a batch of 3 keys
        var stacked = Transforms.Vmap((Tensor k) => Tree.Leaves(model.Initialize(Rng.WrapKeyData(k), spec).Parameters) is var ls ? Np.Concatenate(ls.Select(Np.Ravel).ToArray(), 0) : null!)(Rng.KeyData(keys));
        Assert.Equal(3, stacked.Shape[0]);
        for (int m = 0; m < 3; m++)
        {
            var single = Tree.Leaves(model.Initialize(keys[m], spec).Parameters).Select(t => t.ToDoubleArray()).SelectMany(v => v).ToArray();
            Check.Close(single, stacked[m].ToDoubleArray(), 1e-6, 1e-7);
        }
    }
}

public class ModuleErrorTests
{
    [Fact]
    public void PrimitiveErrorsInsideModulesNameTheSlotPath()
    {
        var model = Serial(Dense(4), FanOut(2), Parallel(Dense(3), Dense(5)), FanInSum);
        var e = Check.Throws<ArgumentException>(() => model.Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 6), DType.Float32)),
            "Serial/3/FanInSum", "(2, 3)", "(2, 5)");
        var (_, p) = Serial(Dense(4)).Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 6), DType.Float32));
        Check.Throws<ArgumentException>(() => Serial(Dense(4)).Apply(p, Np.Zeros(new Shape(2, 7)), training: false), "Serial/0/Dense", "f32[2,7]", "[\"w\"] has shape (6, 4), not (7, 4)");
    }
}

public class ErrorPrefixTests
{
    [Fact]
    public void ErrorsNameTheModuleOnce()
    {
        var spec = new AbstractValue(new Shape(2, 6), DType.Float32);
        var e = Check.Throws<ArgumentException>(() => Parallel(Dense(3), Dense(3)).Initialize(Rng.Key(0), spec), "Parallel: expected a list of inputs");
        Assert.DoesNotContain("Parallel: Parallel", e.Message);
        e = Check.Throws<ArgumentException>(() => Serial(Dense(2), Parallel(Dense(3))).Initialize(Rng.Key(0), spec), "Serial/1/Parallel: expected a list");
        Assert.DoesNotContain("Parallel: Parallel", e.Message);
        e = Check.Throws<ArgumentException>(() => Serial(Dense(2), Conv(2, new[] { 3, 3 })).Initialize(Rng.Key(0), spec), "Serial/1/Conv: expected an input of rank 4");
        Assert.DoesNotContain("Conv: Conv", e.Message);
    }
}

public class VmapStateTests
{
    [Fact]
    public void BatchNormUnderNamedVmapMatchesBatchNormOverTheBatch()
    {
        // Per-example model code: features (4,), the batch is mapped with the name "batch".
        var perExample = Serial(Dense(4), Layers.Vmap(BatchNorm(axis: Array.Empty<int>(), axisName: "batch"), inAxis: 0, axisName: "batch"));
        var mapped = Serial(Dense(4), BatchNorm(axis: new[] { 0 }));
        var x = TestData.Tensor(5, new[] { 6, 3 });
        var (_, p1, s1) = mapped.InitializeWithState(Rng.Key(0), x.Aval);
        var (y1, n1) = mapped.ApplyWithState(p1, s1, x, training: true);
        var (_, p2, s2) = perExample.InitializeWithState(Rng.Key(0), x.Aval);
        var (y2, n2) = perExample.ApplyWithState(p1, s2, x, training: true);   // same parameters
        Check.Close(((Tensor)y1).ToDoubleArray(), ((Tensor)y2).ToDoubleArray(), 1e-5, 1e-5);
        var mean1 = Tree.Leaves(n1); var mean2 = Tree.Leaves(n2);
        Assert.Equal(mean1.Length, mean2.Length);
        for (int i = 0; i < mean1.Length; i++) Check.Close(mean1[i].ToDoubleArray(), mean2[i].ToDoubleArray(), 1e-5, 1e-6);
        Assert.All(mean2, t => Assert.True(t.IsConcrete));
    }
}
