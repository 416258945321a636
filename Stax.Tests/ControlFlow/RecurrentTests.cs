using System.Diagnostics;
using Stax.Nn;
using Stax.Tests.Infrastructure;
using Xunit.Abstractions;
using static Stax.Nn.Layers;
using static Stax.Transforms;

namespace Stax.Tests.ControlFlow;

/// <summary>Recurrent cells and the Scan-based Rnn / Bidirectional modules.</summary>
public class RecurrentTests(ITestOutputHelper output)
{
    static Tensor T(int seed, params int[] shape) => TestData.Tensor(seed, shape, DType.Float64, -1, 1);

    static AbstractValue F64(params int[] shape) => new(new Shape(shape), DType.Float64);

    public static IEnumerable<object[]> Cells() => new[] { "rnn", "lstm", "gru" }.Select(n => new object[] { n });

    static RecurrentCell Make(string name, int hidden) => name switch
    {
        "rnn" => RnnCell(hidden),
        "lstm" => LstmCell(hidden),
        _ => GruCell(hidden),
    };

    // The equivalent unrolled C# loop over time with the cell's step function.
    static Tensor Unrolled(RecurrentCell cell, object parameters, Tensor x, bool reverse)
    {
        int n = x.Shape[1];
        var carry = cell.InitialCarry(new Shape(x.Shape[0]), x.DType);
        var ys = new Tensor[n];
        for (int s = 0; s < n; s++)
        {
            int t = reverse ? n - 1 - s : s;
            var (c, y) = cell.Step(parameters, carry, x[.., t]);
            carry = c;
            ys[t] = y;
        }
        return Np.Stack(ys, 1);
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void RnnMatchesTheUnrolledLoop(string name)
    {
        var cell = Make(name, 4);
        foreach (var reverse in new[] { false, true })
        {
            var rnn = Rnn(cell, reverse);
            var (outSpec, parameters) = rnn.Initialize(Rng.Key(1), F64(2, 5, 3));
            Assert.Equal(F64(2, 5, 4), outSpec);
            var p = (Dictionary<string, Tensor>)parameters;
            int gates = name == "rnn" ? 1 : name == "lstm" ? 4 : 3;
            Assert.Equal(new Shape(3, 4 * gates), p["wi"].Shape);
            Assert.Equal(new Shape(4, 4 * gates), p["wh"].Shape);
            var x = T(2, 2, 5, 3);
            var y = rnn.Apply(parameters, x, training: false);
            Check.Close(Unrolled(cell, parameters, x, reverse).ToDoubleArray(), y.ToDoubleArray(), 1e-12, 1e-12, $"{name} reverse={reverse}");
            // Gradients with respect to the parameters and the input, against the unrolled loop.
            var g = Grad<object, Tensor>((pp, xx) => Np.Sum(Np.Sin(rnn.Apply(pp, xx, training: false))))(parameters, x);
            var gu = Grad<object, Tensor>((pp, xx) => Np.Sum(Np.Sin(Unrolled(cell, pp, xx, reverse))))(parameters, x);
            foreach (var (a, b) in Tree.Leaves(gu).Zip(Tree.Leaves(g)))
                Check.Close(a.ToDoubleArray(), b.ToDoubleArray(), 1e-10, 1e-10, $"{name} grad");
            TransformCheck.Grads(xs => new[] { rnn.Apply(parameters, xs[0], training: false) }, new[] { x }, order: 1, name: name);
            TransformCheck.JitMatchesEager(xs => new[] { rnn.Apply(parameters, xs[0], training: false) }, new[] { x }, name);
        }
    }

    [Fact]
    public void BidirectionalConcatenatesBothDirections()
    {
        var cell = GruCell(3);
        var bi = Bidirectional(cell);
        var (outSpec, parameters) = bi.Initialize(Rng.Key(3), F64(2, 4, 5));
        Assert.Equal(F64(2, 4, 6), outSpec);
        var ps = (object?[])parameters;
        var x = T(4, 2, 4, 5);
        var y = bi.Apply(parameters, x, training: false);
        var want = Np.Concatenate(new[] { Unrolled(cell, ps[0]!, x, false), Unrolled(cell, ps[1]!, x, true) }, -1);
        Check.Close(want.ToDoubleArray(), y.ToDoubleArray(), 1e-12, 1e-12);
        Assert.NotEqual(((Dictionary<string, Tensor>)ps[0]!)["wi"].ToDoubleArray(), ((Dictionary<string, Tensor>)ps[1]!)["wi"].ToDoubleArray());
    }

    [Fact]
    public void TimeAxisAndCellAsModule()
    {
        var cell = LstmCell(3);
        var rnn = Rnn(cell, timeAxis: 0);                      // time-major (time, batch, features)
        var (spec, parameters) = rnn.Initialize(Rng.Key(5), F64(6, 2, 4));
        Assert.Equal(F64(6, 2, 3), spec);
        var x = T(6, 6, 2, 4);
        var batchFirst = Rnn(cell).Apply(parameters, Np.Transpose(x, new[] { 1, 0, 2 }), training: false);
        Check.Close(Np.Transpose(batchFirst, new[] { 1, 0, 2 }).ToDoubleArray(), rnn.Apply(parameters, x, training: false).ToDoubleArray(), 1e-12, 1e-12);
        // A cell on its own: one step from the zero carry.
        Module m = cell;
        var (s1, p1) = m.Initialize(Rng.Key(6), F64(2, 4));
        Assert.Equal(F64(2, 3), s1);
        Check.Close(cell.Step(p1, cell.InitialCarry(new Shape(2), DType.Float64), x[0]).Output.ToDoubleArray(), m.Apply(p1, x[0], training: false).ToDoubleArray(), 1e-12, 1e-12);
        Check.Throws<ArgumentException>(() => rnn.Apply(parameters, T(1, 6, 2, 5), training: false), "Rnn/LstmCell", "f64[2,5]", "has shape");
        Check.Throws<ArgumentException>(() => Rnn(cell).Initialize(Rng.Key(0), F64(3)), "Rnn", "time axis");
        Check.Throws<ArgumentException>(() => LstmCell(0), "LstmCell", "positive");
    }

    // The adding problem: each sequence holds (value, marker) pairs; the target is the sum of the two
    // marked values (one in each half). Predicting the mean gives MSE ≈ 1/6 ≈ 0.167.
    static (Tensor X, Tensor Y) AddingBatch(Random r, int batch, int steps)
    {
        var x = new float[batch * steps * 2];
        var y = new float[batch];
        for (int b = 0; b < batch; b++)
        {
            int i = r.Next(steps / 2), j = steps / 2 + r.Next(steps - steps / 2);
            for (int t = 0; t < steps; t++)
            {
                float v = (float)r.NextDouble();
                x[(b * steps + t) * 2] = v;
                if (t == i || t == j) { x[(b * steps + t) * 2 + 1] = 1; y[b] += v; }
            }
        }
        return (Tensor.FromArray(x, batch, steps, 2), Tensor.FromArray(y, batch));
    }

    [Fact]
    public void LstmLearnsTheAddingProblem()
    {
        const int steps = 8, batch = 32, maxIterations = 400;
        var rnn = Rnn(LstmCell(16));
        var head = Dense(1);
        var model = Module.Create((p, x) =>
        {
            var (p1, p2) = p;
            var h = rnn.Call(p1, x);
            return head.Call(p2, h[.., ^1]);
        }, "Adder");
        var (_, parameters) = model.Initialize(Rng.Key(0), new AbstractValue(new Shape(batch, steps, 2), DType.Float32));
        object velocity = Tree.Map(Np.ZerosLike, parameters);
        Tensor Loss(object p, Tensor x, Tensor y)
        {
            var d = model.Apply(p, x, training: false)[.., 0] - y;
            return Np.Mean(d * d);
        }
        // Plain SGD with momentum, written inline with Tree.Map.
        var train = Jit<object?[], object?[]>(a =>
        {
            var (loss, g) = ValueAndGrad<object>(p => Loss(p, (Tensor)a[2]!, (Tensor)a[3]!))(a[0]!);
            var v = Tree.Map2((vv, gg) => 0.9 * vv + gg, a[1]!, g);
            var p2 = Tree.Map2((pp, vv) => pp - 0.1 * vv, a[0]!, v);
            return new object?[] { p2, v, loss };
        });
        var rng = new Random(42);
        var (testX, testY) = AddingBatch(new Random(7), batch, steps);
        double Eval(object p) => Loss(p, testX, testY).Item<float>();
        double initial = Eval(parameters), final = initial;
        int it;
        var sw = Stopwatch.StartNew();
        for (it = 1; it <= maxIterations; it++)
        {
            var (x, y) = AddingBatch(rng, batch, steps);
            var r = train(new object?[] { parameters, velocity, x, y });
            parameters = r[0]!;
            velocity = r[1]!;
            if (it % 25 == 0)
            {
                final = Eval(parameters);
                output.WriteLine($"step {it}: train loss {((Tensor)r[2]!).Item<float>():F4}, test MSE {final:F4}");
                if (final < 0.01) break;
            }
        }
        output.WriteLine($"adding problem: test MSE {initial:F4} -> {final:F4} after {Math.Min(it, maxIterations)} steps in {sw.Elapsed.TotalSeconds:F1} s");
        Assert.True(final < 0.01, $"the LSTM should reach test MSE < 0.01 within {maxIterations} steps (mean predictor: 0.167); got {final:F4}");
    }

    [Fact]
    public void ScanVersusUnrolledUnderJitTiming()
    {
        // 100 steps of h = tanh(h·w + x_t), as one scan equation or 100 unrolled copies (print only).
        const int n = 100;
        var w = TestData.Tensor(1, new[] { 32, 32 }, DType.Float32, -0.2, 0.2);
        var xs = TestData.Tensor(2, new[] { n, 8, 32 }, DType.Float32);
        var h0 = Tensor.Zeros(new Shape(8, 32));
        var scanned = Jit(a => new[] { Stax.ControlFlow.Scan<Tensor, Tensor, object?>((h, x) => (Np.Tanh(Np.Matmul(h, w) + x), null), a[0], a[1]).Carry });
        var unrolled = Jit(a =>
        {
            var h = a[0];
            for (int t = 0; t < n; t++) h = Np.Tanh(Np.Matmul(h, w) + a[1][t]);
            return new[] { h };
        });
        var args = new[] { h0, xs };
        Check.Close(unrolled.Call(args)[0].ToDoubleArray(), scanned.Call(args)[0].ToDoubleArray(), 1e-5, 1e-5);
        double Time(JitFunction f)
        {
            f.Call(args);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 20; i++) f.Call(args)[0].ToBytes();
            return sw.Elapsed.TotalMilliseconds / 20;
        }
        var traceScan = Stopwatch.StartNew();
        Jit(a => new[] { Stax.ControlFlow.Scan<Tensor, Tensor, object?>((h, x) => (Np.Tanh(Np.Matmul(h, w) + x), null), a[0], a[1]).Carry }).Lower(args);
        double scanTrace = traceScan.Elapsed.TotalMilliseconds;
        var traceUnrolled = Stopwatch.StartNew();
        Jit(a =>
        {
            var h = a[0];
            for (int t = 0; t < n; t++) h = Np.Tanh(Np.Matmul(h, w) + a[1][t]);
            return new[] { h };
        }).Lower(args);
        double unrolledTrace = traceUnrolled.Elapsed.TotalMilliseconds;
        output.WriteLine($"100-step RNN under Jit: scan {Time(scanned):F3} ms/call (trace {scanTrace:F1} ms), unrolled {Time(unrolled):F3} ms/call (trace {unrolledTrace:F1} ms)");
    }
}
