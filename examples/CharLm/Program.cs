// A character-level, decoder-only transformer language model on the text of Moby-Dick, built only
// from the library's layers and trained by a jitted step over a TrainState.
//   dotnet run -c Release --project examples/CharLm -- --steps N --backend cpu|vulkan
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using CharLm;
using Stax;
using Stax.Backends;
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

// ---- data: the text, one token per character; the last tenth is held out ----
string text;
using (var gz = new GZipStream(File.OpenRead(ExampleSupport.FindData("moby-dick/moby-dick.txt.gz")), CompressionMode.Decompress))
using (var reader = new StreamReader(gz, Encoding.UTF8)) text = reader.ReadToEnd();
var vocab = text.Distinct().Order().ToArray();
var index = vocab.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
var tokens = text.Select(c => index[c]).ToArray();
int split = tokens.Length * 9 / 10;
var (train, valid) = (tokens[..split], tokens[split..]);

// The unigram baseline: cross-entropy of the validation text under the training text's character frequencies.
var counts = new double[vocab.Length];
foreach (var t in train) counts[t]++;
double unigram = -valid.Average(t => Math.Log(Math.Max(counts[t], 0.5) / train.Length));
Console.WriteLine($"Moby-Dick: {text.Length:N0} characters, {vocab.Length} distinct; train {train.Length:N0}, validation {valid.Length:N0}");
Console.WriteLine($"unigram baseline: {unigram:F3} nats per character");

// ---- model: embedding, rotary causal self-attention blocks, tied output ----
int T = opt.Context;
var init = Initializers.TruncatedNormal(0.02);
var embed = Embedding(vocab.Length, opt.Width);
var blocks = Enumerable.Range(0, opt.Depth).Select(_ => (
    Ln1: LayerNorm(), Attn: MultiHeadDotProductAttention(opt.Heads, rotary: true, dropoutRate: 0.1), Ln2: LayerNorm(),
    Up: Dense(4 * opt.Width, init), Down: Dense(opt.Width, init), Drop: Dropout(rate: 0.1))).ToArray();
var lnFinal = LayerNorm();
var model = Module.Create((p, x) =>
{
    var mask = MakeCausalMask(x);
    var h = embed.Call(p["embed"], x);
    for (int i = 0; i < blocks.Length; i++)
    {
        var (b, q) = (blocks[i], p["blocks"][i]);
        h = h + b.Drop.Call(q["drop_attn"], b.Attn.Call(q["attn"], b.Ln1.Call(q["ln1"], h), mask: mask));
        h = h + b.Drop.Call(q["drop_mlp"], b.Down.Call(q["down"], Activations.Gelu(b.Up.Call(q["up"], b.Ln2.Call(q["ln2"], h)))));
    }
    return embed.Attend(p["embed"], lnFinal.Call(p["ln_f"], h));   // logits over the vocabulary
}, "CharTransformer");

var key = Rng.Key(opt.Seed);
var (initKey, dataKey, dropKey) = key;
var (_, parameters) = model.Initialize(initKey, new AbstractValue(new Shape(opt.Batch, T), DType.Int32));
parameters = Tree.Map(t => t.DevicePut(device), parameters);
var tx = Optax.Chain(Optax.ClipByGlobalNorm(1.0),
    Optax.AdamW(Optax.WarmupCosineDecaySchedule(0.0, opt.LearningRate, Math.Max(1, opt.Steps / 20), opt.Steps, opt.LearningRate / 10), weightDecay: 0.01));
var state = TrainState.Create(parameters, tx);
Console.WriteLine($"{opt.Depth} blocks, width {opt.Width}, {opt.Heads} heads, context {T}: {Summary.Of(parameters).TotalParameters:N0} parameters; batch {opt.Batch}, {opt.Steps} steps on {device.Name}");

if (opt.Resume && opt.Checkpoint != null && File.Exists(opt.Checkpoint))
{
    var (trees, _) = Checkpoint.Load(opt.Checkpoint, new Dictionary<string, object?> { ["state"] = state });
    state = Tree.Map(t => t.DevicePut(device), (TrainState)trees["state"]!);
    Console.WriteLine($"resumed from {opt.Checkpoint} at step {state.Step.Item<int>()}");
}

// ---- the jitted train step; the old state is donated ----
var trainStep = Transforms.Jit((TrainState s, Tensor x, Tensor y, Key k) =>
{
    var (loss, grads) = Transforms.ValueAndGrad((object p) =>
        Losses.SoftmaxCrossEntropy(model.Apply(p, x, training: true, rng: Rng.FoldIn(k, s.Step)), y))(s.Params!);
    return (s.ApplyGradients(grads), loss);
}, "train_step", donateArgnums: 0);
var evalLoss = Transforms.Jit((object p, Tensor x, Tensor y) => Losses.SoftmaxCrossEntropy(model.Apply(p, x, training: false), y), "eval_loss");
var nextLogits = Transforms.Jit((object p, Tensor x) => model.Apply(p, x, training: false)[0, -1], "next_logits");

// Random windows of T + 1 characters: inputs are the first T, targets the last T.
(Tensor X, Tensor Y) Batch(int[] source, Random random, int n)
{
    var xs = new int[n * T];
    var ys = new int[n * T];
    for (int b = 0; b < n; b++)
    {
        int start = random.Next(source.Length - T - 1);
        Array.Copy(source, start, xs, b * T, T);
        Array.Copy(source, start + 1, ys, b * T, T);
    }
    return (Tensor.FromArray(xs, n, T).DevicePut(device), Tensor.FromArray(ys, n, T).DevicePut(device));
}

var validBatches = Enumerable.Range(0, 8).Select(_ => Batch(valid, new Random(1234), opt.Batch)).ToArray();
double ValidationLoss() => validBatches.Average(b => evalLoss(state.Params!, b.X, b.Y).Item<float>());

var losses = new List<double>();
var marks = new List<(int Step, string Label)>();
var random = new Random(opt.Seed * 7919 + state.Step.Item<int>());
var clock = Stopwatch.StartNew();
double validLoss = double.NaN;
for (int step = state.Step.Item<int>() + 1; step <= opt.Steps; step++)
{
    var (x, y) = Batch(train, random, opt.Batch);
    (state, var loss) = trainStep(state, x, y, dropKey);
    losses.Add(loss.Item<float>());
    if (step % opt.EvalEvery == 0 || step == opt.Steps)
    {
        validLoss = ValidationLoss();
        marks.Add((losses.Count, $"step {step}: val {validLoss:F3}"));
        double perStep = clock.Elapsed.TotalSeconds / losses.Count;
        Console.WriteLine($"step {step}: train loss {losses.TakeLast(20).Average():F3}, validation loss {validLoss:F3} nats/char ({perStep * 1000:F0} ms/step)");
        if (opt.Checkpoint != null)
            Checkpoint.Save(opt.Checkpoint, new Dictionary<string, object?> { ["state"] = state }, new Dictionary<string, string> { ["step"] = step.ToString() });
    }
}
if (double.IsNaN(validLoss)) validLoss = ValidationLoss();
var plot = opt.Plot ?? "loss-charlm.svg";
TrainingPlot.Write(plot, $"Moby-Dick character transformer: training loss (nats/char); unigram baseline {unigram:F2}", losses, marks);
Console.WriteLine($"trained in {clock.Elapsed.TotalSeconds:F1} s; loss curve written to {plot}");

// ---- a sample: the window slides over the text it writes, one character at a time ----
if (opt.Sample > 0)
{
    var context = valid[..T].ToList();
    var sampler = new Random(opt.Seed);
    var sb = new StringBuilder();
    for (int i = 0; i < opt.Sample; i++)
    {
        var window = Tensor.FromArray(context.TakeLast(T).ToArray(), 1, T).DevicePut(device);
        var logits = nextLogits(state.Params!, window).ToArray<float>();
        // Sampling at temperature 0.8 from the softmax of the last position's logits.
        var weights = logits.Select(l => Math.Exp((l - logits.Max()) / 0.8)).ToArray();
        double u = sampler.NextDouble() * weights.Sum();
        int next = 0;
        for (double acc = weights[0]; acc < u && next < weights.Length - 1; acc += weights[++next]) { }
        context.Add(next);
        sb.Append(vocab[next]);
    }
    Console.WriteLine($"sample after \"{new string(valid[..T].Select(t => vocab[t]).ToArray()).Replace('\n', ' ')}\":");
    Console.WriteLine(sb.ToString());
}
Console.WriteLine($"validation loss: {validLoss:F4} (unigram baseline {unigram:F4})");
return 0;
