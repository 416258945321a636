using Stax.IO;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

namespace Stax.Tests.IO;

public class CheckpointTests
{
    [Fact]
    public void ModelParametersRoundTripWithPathNames()
    {
        var model = Serial(Dense(4), Relu, Dense(2));
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(new Shape(3, 5), DType.Float32));
        var path = Path.Combine(Path.GetTempPath(), $"stax-ckpt-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(path, new Dictionary<string, object?> { ["params"] = parameters }, new Dictionary<string, string> { ["step"] = "7" });
            var names = SafeTensors.Load(path).Tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
            Assert.Equal(new[] { "params/0/b", "params/0/w", "params/2/b", "params/2/w" }, names);
            var (trees, meta) = Checkpoint.Load(path, new Dictionary<string, object?> { ["params"] = parameters });
            Assert.Equal("7", meta["step"]);
            var x = Rng.Normal(Rng.Key(1), new[] { 3, 5 });
            Assert.Equal(model.Apply(parameters, x, training: false).ToDoubleArray(), model.Apply(trees["params"]!, x, training: false).ToDoubleArray());

            var bigger = Serial(Dense(6), Relu, Dense(2)).Initialize(Rng.Key(0), new AbstractValue(new Shape(3, 5), DType.Float32)).Parameters;
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, new Dictionary<string, object?> { ["params"] = bigger }));
            Assert.Contains("params/0/b", e.Message);
            Assert.Contains("(4,)", e.Message);
            Assert.Contains("(6,)", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void OptimizerStateRoundTripsAndResumesIdentically()
    {
        var model = Serial(Dense(3), Tanh, Dense(2));
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(new Shape(4, 3), DType.Float32));
        var adam = Optimizers.Adam(1e-2);
        var state = adam.Init(parameters);
        var x = Rng.Normal(Rng.Key(1), new[] { 4, 3 });
        Tensor Loss(object p) => Np.Sum(model.Apply(p, x, training: false) * model.Apply(p, x, training: false));
        for (int i = 0; i < 3; i++) state = adam.Update(i, Transforms.Grad((object p) => Loss(p))(adam.GetParams(state)!), state);
        var path = Path.Combine(Path.GetTempPath(), $"stax-opt-{Guid.NewGuid():N}.safetensors");
        try
        {
            Checkpoint.Save(path, new Dictionary<string, object?> { ["opt"] = state });
            var restored = (OptState)Checkpoint.Load(path, new Dictionary<string, object?> { ["opt"] = adam.Init(parameters) }).Trees["opt"]!;
            // The next step from the restored state equals the next step from the live one.
            var a = adam.Update(3, Transforms.Grad((object p) => Loss(p))(adam.GetParams(state)!), state);
            var b = adam.Update(3, Transforms.Grad((object p) => Loss(p))(adam.GetParams(restored)!), restored);
            var la = Tree.Leaves(a); var lb = Tree.Leaves(b);
            Assert.Equal(la.Length, lb.Length);
            for (int i = 0; i < la.Length; i++) Assert.Equal(la[i].ToBytes(), lb[i].ToBytes());
        }
        finally { File.Delete(path); }
    }
}
