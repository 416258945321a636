// Softmax regression (a linear classifier) on MNIST, trained with hand-derived gradients.
// This is the foundation's demo: tensors, matmul, reductions and elementwise kernels only.
// (The MLP/CNN example with Grad, Jit and optimizers replaces it as the main job later.)
//
//   dotnet run -c Release --project examples/SoftmaxRegression -- [--epochs N] [--limit N] [--batch N] [--lr X]
using System.Diagnostics;
using Stax;
using Stax.IO;

int epochs = 3, limit = 60000, batch = 128;
double lr = 0.5;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--epochs": epochs = int.Parse(Next()); break;
        case "--limit": limit = int.Parse(Next()); break;
        case "--batch": batch = int.Parse(Next()); break;
        case "--lr": lr = double.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

string dir = FindData();
(Tensor X, Tensor Y) Load(string images, string labels, int max)
{
    var x = IdxFile.Read(Path.Combine(dir, images));
    var y = IdxFile.Read(Path.Combine(dir, labels));
    int n = Math.Min(max, x.Shape[0]);
    var xf = x[..n].Reshape(n, 28 * 28).AsType(DType.Float32) / 255.0;
    return (xf, y[..n].AsType(DType.Int32));
}
var (xTrain, yTrain) = Load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", limit);
var (xTest, yTest) = Load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000);
int nTrain = xTrain.Shape[0];
Console.WriteLine($"MNIST: {nTrain} training and {xTest.Shape[0]} test images; softmax regression, batch {batch}, lr {lr}");

var w = Np.Zeros(new Shape(784, 10));
var b = Np.Zeros(new Shape(10));
var rng = new Random(0);
var total = Stopwatch.StartNew();
for (int epoch = 1; epoch <= epochs; epoch++)
{
    var clock = Stopwatch.StartNew();
    var order = Enumerable.Range(0, nTrain).OrderBy(_ => rng.Next()).ToArray();
    double lossSum = 0;
    int steps = 0;
    for (int start = 0; start + batch <= nTrain; start += batch)
    {
        var idx = Tensor.FromArray(order[start..(start + batch)]);
        var xb = Np.Take(xTrain, idx, axis: 0);
        var yb = Np.OneHot(Np.Take(yTrain, idx, axis: 0), 10);
        var logits = Np.Matmul(xb, w) + b;
        // d(mean cross-entropy)/d(logits) = (softmax - onehot) / batch
        var g = (Np.Softmax(logits, axis: -1) - yb) / batch;
        w = w - lr * Np.Matmul(xb.T, g);
        b = b - lr * Np.Sum(g, axis: 0);
        if (steps++ % 50 == 0)
            lossSum += -Np.Mean(Np.Sum(yb * Np.LogSoftmax(logits, axis: -1), axis: -1)).Item<float>();
    }
    double acc = Accuracy(xTest, yTest);
    Console.WriteLine($"epoch {epoch}: sampled train loss {lossSum / Math.Ceiling(steps / 50.0):F4}, test accuracy {acc:F4}, {clock.Elapsed.TotalSeconds:F1} s");
}
Console.WriteLine($"trained in {total.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"test accuracy: {Accuracy(xTest, yTest):F4}");
return 0;

double Accuracy(Tensor x, Tensor y)
{
    var predicted = Np.Argmax(Np.Matmul(x, w) + b, axis: -1);
    return Np.Mean(predicted.Eq(y).AsType(DType.Float32)).Item<float>();
}

static string FindData()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
    {
        var candidate = Path.Combine(d.FullName, "data", "mnist");
        if (Directory.Exists(candidate)) return candidate;
    }
    throw new DirectoryNotFoundException("data/mnist not found above " + AppContext.BaseDirectory);
}
