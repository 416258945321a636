using Stax.IO;
using Stax.Nn;
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
            Assert.Equal(model.Apply(parameters, x).ToDoubleArray(), model.Apply(trees["params"]!, x).ToDoubleArray());

            var bigger = Serial(Dense(6), Relu, Dense(2)).Initialize(Rng.Key(0), new AbstractValue(new Shape(3, 5), DType.Float32)).Parameters;
            var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(path, new Dictionary<string, object?> { ["params"] = bigger }));
            Assert.Contains("params/0/b", e.Message);
            Assert.Contains("(4,)", e.Message);
            Assert.Contains("(6,)", e.Message);
        }
        finally { File.Delete(path); }
    }
}
