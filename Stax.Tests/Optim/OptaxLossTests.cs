using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Optim;

/// <summary>optax's losses (per example, not averaged) against their documented formulas evaluated here in double.</summary>
public class OptaxLossTests
{
    static Tensor F(double[] data, params int[] shape) => Tensor.FromArray(data.Select(x => (float)x).ToArray(), shape.Length == 0 ? new[] { data.Length } : shape);

    static double LogSigmoid(double x) => x >= 0 ? -Math.Log(1 + Math.Exp(-x)) : x - Math.Log(1 + Math.Exp(x));

    static double[] LogSoftmax(double[] row)
    {
        double m = row.Max(), lse = m + Math.Log(row.Sum(v => Math.Exp(v - m)));
        return row.Select(v => v - lse).ToArray();
    }

    [Fact]
    public void L2LossIsHalfTheSquaredError()
    {
        double[] p = { 1, 2, -3, 0.5 }, t = { 0.5, 2, 1, -1 };
        Check.Close(p.Select((x, i) => 0.5 * (x - t[i]) * (x - t[i])).ToArray(), Optax.L2Loss(F(p), F(t)).ToDoubleArray(), 1e-7);
        Check.Close(p.Select(x => 0.5 * x * x).ToArray(), Optax.L2Loss(F(p)).ToDoubleArray(), 1e-7);
        Check.Close(p.Select((x, i) => (x - t[i]) * (x - t[i])).ToArray(), Optax.SquaredError(F(p), F(t)).ToDoubleArray(), 1e-7);
        Check.Throws<ArgumentException>(() => Optax.L2Loss(F(p), F(new double[] { 1, 2 })), "SquaredError", "same shape");
        Check.Throws<ArgumentException>(() => Optax.L2Loss(Tensor.FromArray(new[] { 1, 2 }, 2)), "SquaredError", "floating point");
    }

    [Fact]
    public void HuberLossIsQuadraticInsideDeltaAndLinearOutside()
    {
        const double delta = 1.5;
        double[] e = { -4, -1.5, -0.2, 0, 1, 1.5, 2.5 };
        double Huber(double x) => Math.Abs(x) <= delta ? 0.5 * x * x : 0.5 * delta * delta + delta * (Math.Abs(x) - delta);
        var targets = F(e.Select(_ => 1.0).ToArray());
        var preds = F(e.Select(x => x + 1).ToArray());
        Check.Close(e.Select(Huber).ToArray(), Optax.HuberLoss(preds, targets, delta).ToDoubleArray(), 1e-6, 1e-7);
        Check.Close(e.Select(x => Math.Abs(x) <= 1 ? 0.5 * x * x : Math.Abs(x) - 0.5).ToArray(), Optax.HuberLoss(F(e)).ToDoubleArray(), 1e-6, 1e-7);
        // The derivative is the error clipped to [-delta, delta], also at |e| = delta (both sides agree there).
        var g = Transforms.Grad(x => Np.Sum(Optax.HuberLoss(x, null, delta)))(F(e)).ToDoubleArray();
        Check.Close(e.Select(x => Math.Clamp(x, -delta, delta)).ToArray(), g, 1e-6, 1e-7);
    }

    [Fact]
    public void SigmoidBinaryCrossEntropyIsStableForHugeLogits()
    {
        double[] logits = { -100, -2, 0, 0.5, 3, 100, 100 };
        double[] labels = { 0, 1, 0.3, 1, 1, 0, 1 };
        var expected = logits.Select((x, i) => -labels[i] * LogSigmoid(x) - (1 - labels[i]) * LogSigmoid(-x)).ToArray();
        Check.Close(expected, Optax.SigmoidBinaryCrossEntropy(F(logits), F(labels)).ToDoubleArray(), 1e-6, 1e-7);
        // d/dlogit = sigmoid(logit) - label.
        var g = Transforms.Grad(x => Np.Sum(Optax.SigmoidBinaryCrossEntropy(x, F(labels))))(F(logits)).ToDoubleArray();
        Check.Close(logits.Select((x, i) => 1 / (1 + Math.Exp(-x)) - labels[i]).ToArray(), g, 1e-6, 1e-7);
        // Integer labels are cast to the logits' dtype.
        Check.Close(new[] { -LogSigmoid(2) }, Optax.SigmoidBinaryCrossEntropy(F(new[] { 2.0 }), Tensor.FromArray(new[] { 1 }, 1)).ToDoubleArray(), 1e-6);
    }

    [Fact]
    public void SoftmaxCrossEntropyWithSmoothedLabels()
    {
        double[][] logits = { new[] { 1.0, 2, 3, -1 }, new[] { 0.5, 0.5, 4, 1 } };
        int[] classes = { 2, 0 };
        const double alpha = 0.1;
        var oneHot = classes.Select(c => Enumerable.Range(0, 4).Select(j => j == c ? 1.0 : 0.0).ToArray()).ToArray();
        var smooth = oneHot.Select(r => r.Select(v => (1 - alpha) * v + alpha / 4).ToArray()).ToArray();
        var smoothed = Optax.SmoothLabels(F(oneHot.SelectMany(r => r).ToArray(), 2, 4), alpha);
        Check.Close(smooth.SelectMany(r => r).ToArray(), smoothed.ToDoubleArray(), 1e-7);
        var expected = logits.Select((row, i) => -LogSoftmax(row).Select((l, j) => smooth[i][j] * l).Sum()).ToArray();
        var lt = F(logits.SelectMany(r => r).ToArray(), 2, 4);
        Check.Close(expected, Optax.SoftmaxCrossEntropy(lt, smoothed).ToDoubleArray(), 1e-6);
        // Integer labels: -log_softmax[label]; axis 0 on the transposed logits gives the same.
        var intExpected = logits.Select((row, i) => -LogSoftmax(row)[classes[i]]).ToArray();
        var labels = Tensor.FromArray(classes, 2);
        Check.Close(intExpected, Optax.SoftmaxCrossEntropyWithIntegerLabels(lt, labels).ToDoubleArray(), 1e-6);
        Check.Close(intExpected, Optax.SoftmaxCrossEntropyWithIntegerLabels(Np.Transpose(lt), labels, axis: 0).ToDoubleArray(), 1e-6);
        Check.Close(intExpected, Optax.SoftmaxCrossEntropy(Np.Transpose(lt), Np.Transpose(F(oneHot.SelectMany(r => r).ToArray(), 2, 4)), axis: 0).ToDoubleArray(), 1e-6);
    }

    [Fact]
    public void KlDivergenceTakesLogPredictionsThenTargets()
    {
        double[] q = { 0.3, 0.3, 0.4 }, p = { 0.2, 0, 0.8 };
        // KL(p || q) = Σ p log(p / q), zero targets contributing 0.
        double expected = 0.2 * Math.Log(0.2 / 0.3) + 0.8 * Math.Log(0.8 / 0.4);
        Check.Close(new[] { expected }, Optax.KlDivergence(F(q.Select(x => Math.Log(x)).ToArray()), F(p)).ToDoubleArray(), 1e-6);
        Check.Close(new[] { 0.0 }, Optax.KlDivergence(F(p.Select(x => x == 0 ? -5 : Math.Log(x)).ToArray()), F(p)).ToDoubleArray(), 0, 1e-7);
    }

    [Fact]
    public void CosineSimilarityAndDistance()
    {
        double[] a = { 1, 2, 2, 0, 3, 4 }, b = { 2, 0, 1, 0, 4, -3 };
        double Cos(int r) => Enumerable.Range(0, 3).Sum(j => a[r * 3 + j] * b[r * 3 + j])
            / Math.Sqrt(Enumerable.Range(0, 3).Sum(j => a[r * 3 + j] * a[r * 3 + j])) / Math.Sqrt(Enumerable.Range(0, 3).Sum(j => b[r * 3 + j] * b[r * 3 + j]));
        var sim = new[] { Cos(0), Cos(1) };
        Check.Close(sim, Optax.CosineSimilarity(F(a, 2, 3), F(b, 2, 3)).ToDoubleArray(), 1e-6, 1e-7);
        Check.Close(sim.Select(s => 1 - s).ToArray(), Optax.CosineDistance(F(a, 2, 3), F(b, 2, 3)).ToDoubleArray(), 1e-6, 1e-7);
        // A zero vector: 0/0 = NaN without epsilon (as optax), 0 with it.
        var z = F(new double[] { 0, 0, 0 });
        Assert.True(double.IsNaN(Optax.CosineSimilarity(z, F(new double[] { 1, 2, 3 })).ToDoubleArray()[0]));
        Check.Close(new[] { 0.0 }, Optax.CosineSimilarity(z, F(new double[] { 1, 2, 3 }), epsilon: 1e-12).ToDoubleArray());
        // Epsilon bounds the squared norm from below: tiny vectors are scaled by 1/sqrt(eps), not normalised.
        double[] tiny = { 1e-4, 0, 0 };
        Check.Close(new[] { 1e-4 / Math.Sqrt(1e-6) * 1 }, Optax.CosineSimilarity(F(tiny), F(new double[] { 1, 0, 0 }), epsilon: 1e-6).ToDoubleArray(), 1e-5);
    }
}
