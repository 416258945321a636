// MNIST with Stax: an MLP or a CNN written with stax layers, trained by a jitted Adam step over a TrainState.
//   dotnet run -c Release --project examples/Mnist -- --model mlp|cnn --epochs N --backend cpu|vulkan
//   mpirun -np 2 dotnet run -c Release --project examples/Mnist -- --distributed   (data-parallel)
using System.Diagnostics;
using Mnist;
using Stax;
using Stax.Backends;
using Stax.Distributed;
using Stax.Examples;
using Stax.IO;
using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

Options opt;
try { opt = Options.Parse(args); }
catch (OperationCanceledException) { Console.WriteLine(Options.Usage); return 0; }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); Console.Error.WriteLine(Options.Usage); return 2; }

var device = ExampleSupport.UseBackend(opt.Backend);

// ---- processes: with --distributed, the ranks of the MPI job form the axis "batch" ----
int rank = 0, ranks = 1;
if (opt.Distributed)
{
    try { Distributed.Initialize("batch"); }
    catch (MpiNotAvailableException e) { Console.Error.WriteLine(e.Message); return 1; }
    (rank, ranks) = (Distributed.Rank, Distributed.Size);
    if (opt.BatchOrDefault % ranks != 0)
    {
        Console.Error.WriteLine($"--batch {opt.BatchOrDefault} must be a multiple of the number of processes ({ranks})");
        return 2;
    }
    if (rank != 0) Console.SetOut(TextWriter.Null); // rank 0 reports, checkpoints and plots
}
bool lead = rank == 0;
var host = Stax.Backends.Cpu.CpuBackend.Instance;

// ---- data: the original IDX files shipped in data/mnist ----
string dir = ExampleSupport.FindData("mnist");
(Tensor X, Tensor Y) Load(string images, string labels, int max)
{
    var x = IdxFile.Read(Path.Combine(dir, images));
    var y = IdxFile.Read(Path.Combine(dir, labels));
    int n = Math.Min(max, x.Shape[0]);
    // Normalised images stay on the CPU; batches are gathered there and sent to the device,
    // so a dataset larger than one device buffer binding still works.
    var xf = x.DevicePut(host)[..n].AsType(DType.Float32) / 255.0;
    xf = opt.Model == "cnn" ? xf.Reshape(n, 28, 28, 1) : xf.Reshape(n, 784);
    return (xf, y.DevicePut(host)[..n].AsType(DType.Int32));
}
var (xTrain, yTrain) = Load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", opt.Limit);
var (xTest, yTest) = Load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000);
int nTrain = xTrain.Shape[0], batch = opt.BatchOrDefault, local = batch / ranks;
int stepsPerEpoch = nTrain / batch;

// ---- model, written once; init is derived ----
var model = opt.Model == "cnn"
    ? Serial(Conv(32, new[] { 3, 3 }), Relu, Conv(64, new[] { 3, 3 }), Relu, MaxPool(new[] { 2, 2 }, strides: new[] { 2, 2 }), Flatten, Dense(128), Relu, Dense(10))
    : Serial(Dense(512), Relu, Dense(512), Relu, Dense(10));
var key = Rng.Key(opt.Seed);
var (initKey, shuffleKey) = key;
var inputSpec = new AbstractValue(new Shape(new[] { batch }.Concat(xTrain.Shape.ToArray()[1..]).ToArray()), DType.Float32);
var (_, parameters) = model.Initialize(initKey, inputSpec);
parameters = Tree.Map(p => p.DevicePut(device), parameters);
Console.WriteLine($"MNIST {opt.Model} on {device.Name}: {nTrain} training / {xTest.Shape[0]} test images, batch {batch}, Adam lr {opt.LearningRate} (x0.75 per epoch)");
if (opt.Distributed) Console.WriteLine($"data-parallel over {ranks} processes ({Distributed.LibraryVersion.Split('\n')[0].Split(',')[0]}): {local} images of each batch per process");
Console.WriteLine($"{Summary.Of(parameters).TotalParameters:N0} parameters");

// Adam with the learning rate decaying by 0.75 per epoch: the last epochs settle instead of
// wandering around the optimum (the final test accuracy is what the run reports).
var tx = Optax.Adam(Optax.ExponentialDecay(opt.LearningRate, stepsPerEpoch, 0.75));
// --shard-optimizer: Adam's state split over the ranks (ZeRO stage 1). Checkpoints hold the
// unsharded state (gathered before saving, cut again after loading), so they are interchangeable
// with unsharded and single-process runs.
var shardedTx = opt.ShardOptimizer ? ZeroRedundancyOptimizer.Create(tx, "batch") : null;
var state = TrainState.Create(parameters, tx);
int startEpoch = 1;
if (lead && opt.Resume && opt.Checkpoint != null && File.Exists(opt.Checkpoint))
{
    var (trees, meta) = Checkpoint.Load(opt.Checkpoint, new Dictionary<string, object?> { ["state"] = state });
    state = Tree.Map(t => t.DevicePut(device), (TrainState)trees["state"]!);
    startEpoch = int.Parse(meta["epoch"]) + 1;
    Console.WriteLine($"resumed from {opt.Checkpoint} after epoch {startEpoch - 1} (step {state.Step.Item<int>()})");
}

if (opt.Distributed)
{
    // Every rank starts from rank 0's state: its initialization or the checkpoint it read.
    state = Distributed.Broadcast(state);
    startEpoch = Distributed.Broadcast(Tensor.Scalar(startEpoch, DType.Int32)).Item<int>();
    if (shardedTx != null)
        state = state with
        {
            OptState = ZeroRedundancyOptimizer.ShardState(state.OptState, tx, state.Params, "batch"), Tx = shardedTx,
        };
}

// ---- the jitted train step: (state, x, y) -> (new state, loss, accuracy) ----
// The old state is donated: its buffers may be reused for the new one.
var trainStep = Transforms.Jit((TrainState s, Tensor x, Tensor y) =>
{
    var ((loss, logits), grads) = Transforms.ValueAndGrad((object p) =>
    {
        var z = model.Apply(p, x, training: true);
        return (Losses.SoftmaxCrossEntropy(z, y), z);
    }, hasAux: true)(s.Params!);
    var accuracy = Losses.Accuracy(logits, y);
    if (shardedTx != null)
    {
        // Local gradients: the sharded optimizer reduce-scatters them; loss and accuracy are averaged.
        var m = GradientFusion.Pmean(new object?[] { loss, accuracy }, "batch");
        return (ZeroRedundancyOptimizer.ApplyGradients(s, grads), (Tensor)m[0]!, (Tensor)m[1]!);
    }
    if (opt.Distributed)
    {
        // The mean over the processes of their shard means is the global batch mean: one fused
        // all-reduce of the gradients, the loss and the accuracy per step.
        var mean = GradientFusion.Pmean(new object?[] { grads, loss, accuracy }, "batch");
        (grads, loss, accuracy) = (mean[0]!, (Tensor)mean[1]!, (Tensor)mean[2]!);
    }
    return (s.ApplyGradients(grads), loss, accuracy);
}, "train_step", donateArgnums: 0);
var predict = Transforms.Jit((object p, Tensor x) => Np.Argmax(model.Apply(p, x, training: false), axis: -1), "predict");

double TestAccuracy()
{
    int correct = 0;
    for (int s = 0; s < xTest.Shape[0]; s += 1000)
    {
        int e = Math.Min(xTest.Shape[0], s + 1000);
        var pred = predict(state.Params!, xTest[s..e].DevicePut(device)).ToArray<int>();
        var truth = yTest[s..e].ToArray<int>();
        for (int i = 0; i < pred.Length; i++) if (pred[i] == truth[i]) correct++;
    }
    return correct / (double)xTest.Shape[0];
}

var losses = new List<double>();
var epochEnds = new List<(int Step, string Label)>();
var total = Stopwatch.StartNew();
double acc = 0;
for (int epoch = startEpoch; epoch <= opt.EpochsOrDefault; epoch++)
{
    var clock = Stopwatch.StartNew();
    var order = Rng.Permutation(Rng.FoldIn(shuffleKey, Tensor.Scalar(epoch, DType.UInt32)), nTrain).ToArray<int>();
    double runLoss = 0, runAcc = 0;
    for (int s = 0; s < stepsPerEpoch; s++)
    {
        // This process's shard of the global batch (all ranks draw the same permutation).
        var idx = Tensor.From<int>(order.AsSpan(s * batch + rank * local, local), new Shape(local), host);
        var xb = Np.Take(xTrain, idx, axis: 0).DevicePut(device);
        var yb = Np.Take(yTrain, idx, axis: 0).DevicePut(device);
        (state, var loss, var accuracy) = trainStep(state, xb, yb);
        double l = loss.Item<float>(), a = accuracy.Item<float>();
        runLoss = s == 0 ? l : 0.98 * runLoss + 0.02 * l;
        runAcc = s == 0 ? a : 0.98 * runAcc + 0.02 * a;
        losses.Add(l);
        if (s % 20 == 0 || s == stepsPerEpoch - 1)
            Progress(epoch, s + 1, stepsPerEpoch, runLoss, runAcc, (s + 1) * batch / clock.Elapsed.TotalSeconds);
    }
    Console.WriteLine();
    acc = lead ? TestAccuracy() : 0;
    epochEnds.Add((losses.Count, $"epoch {epoch}: test acc {acc:F4}"));
    var memory = device is IMemoryStatistics m ? $", {device.Name} memory: live {m.MemoryStats.LiveBytes / 1e6:F1} MB, high-water {m.MemoryStats.HighWaterBytes / 1e6:F1} MB" : "";
    Console.WriteLine($"epoch {epoch}: test accuracy {acc:F4}, {clock.Elapsed.TotalSeconds:F1} s{memory}");
    // A sharded state is gathered first (a collective: every rank takes part), then saved unsharded.
    var saved = shardedTx != null && opt.Checkpoint != null
        ? state with { OptState = ZeroRedundancyOptimizer.GatherState(state.OptState, tx, state.Params, "batch"), Tx = tx }
        : state;
    if (opt.Checkpoint != null && lead)
        Checkpoint.Save(opt.Checkpoint, new Dictionary<string, object?> { ["state"] = saved },
            new Dictionary<string, string> { ["epoch"] = epoch.ToString(), ["model"] = opt.Model });
}
var plot = opt.Plot ?? $"loss-{opt.Model}.svg";
if (lead) TrainingPlot.Write(plot, $"MNIST {opt.Model}: training loss (cross-entropy) per step", losses, epochEnds);
Console.WriteLine($"trained in {total.Elapsed.TotalSeconds:F1} s; loss curve written to {plot}");
if (startEpoch > opt.EpochsOrDefault && lead) acc = TestAccuracy();
Console.WriteLine($"test accuracy: {acc:F4}");
if (opt.Distributed)
{
    // Every rank prints its parameters' digest: data-parallel training keeps them bit-identical.
    var digest = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Tree.Leaves(state.Params).SelectMany(t => t.ToBytes()).ToArray()));
    Console.Error.WriteLine($"rank {rank} parameters sha256 {digest}");
    Distributed.Shutdown();
}
return 0;

static void Progress(int epoch, int step, int steps, double loss, double acc, double imagesPerSecond)
{
    const int width = 30;
    int filled = (int)Math.Round(width * step / (double)steps);
    var bar = new string('=', Math.Max(0, filled - 1)) + (filled > 0 ? ">" : "") + new string(' ', width - filled);
    Console.Write($"\repoch {epoch} [{bar}] {step}/{steps} loss {loss:F4} acc {acc:F4} {imagesPerSecond:F0} img/s   ");
}
