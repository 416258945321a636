using Stax.IO;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

namespace Stax.Tests.Optim;

/// <summary>A short real training run: an MLP on a subset of the shipped MNIST data.</summary>
public class MnistTrainingTests
{
    static string DataDir()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Stax.sln"))) return Path.Combine(d.FullName, "data", "mnist");
        throw new DirectoryNotFoundException("data/mnist");
    }

    [Fact]
    public void MlpLearnsMnistSubset()
    {
        string dir = DataDir();
        var xAll = IdxFile.Read(Path.Combine(dir, "train-images-idx3-ubyte.gz"));
        var yAll = IdxFile.Read(Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        var x = xAll[..3000].Reshape(3000, 784).AsType(DType.Float32) / 255.0;
        var y = yAll[..3000].AsType(DType.Int32);
        var xt = xAll[50000..51000].Reshape(1000, 784).AsType(DType.Float32) / 255.0;   // held out
        var yt = yAll[50000..51000].AsType(DType.Int32);

        var model = Serial(Dense(64), Relu, Dense(10));
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(new Shape(100, 784), DType.Float32));
        var adam = Optimizers.Adam(2e-3);
        var state = adam.Init(parameters);
        var def = Tree.Structure(state);
        var step = Transforms.Jit((Tensor[] a) =>
        {
            var s = Tree.Unflatten<OptState>(def, a[..^3]);
            var (xb, yb, i) = (a[^3], a[^2], a[^1]);
            var grads = Transforms.Grad((object p) => Losses.SoftmaxCrossEntropy(model.Apply(p, xb, training: true), yb))(adam.GetParams(s)!);
            return Tree.Leaves(adam.Update(i, grads, s));
        });
        int t = 0;
        for (int epoch = 0; epoch < 3; epoch++)
            for (int b = 0; b < 3000; b += 100)
                state = Tree.Unflatten<OptState>(def, step.Call(Tree.Leaves(state).Concat(new[] { x[b..(b + 100)], y[b..(b + 100)], Tensor.Scalar(t++, DType.Int32) }).ToArray()));
        Assert.Equal(1, step.TraceCount);                                   // every later step was a cache hit
        var accuracy = Losses.Accuracy(model.Apply(adam.GetParams(state)!, xt, training: false), yt).Item<float>();
        Assert.True(accuracy > 0.85, $"held-out accuracy {accuracy} after 90 Adam steps on 3000 images");
    }
}
