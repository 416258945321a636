using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Optim;

/// <summary>Losses and metrics against values computed here in double, including huge logits and -inf padding.</summary>
public class LossTests
{
    static double Lse(params double[] xs)
    {
        double m = xs.Max();
        return m + Math.Log(xs.Sum(x => Math.Exp(x - m)));
    }

    static Tensor F(float[] data, params int[] shape) => Tensor.FromArray(data, shape);

    static Tensor I(params int[] labels) => Tensor.FromArray(labels, labels.Length);

    [Fact]
    public void CrossEntropyWithIntegerAndOneHotLabels()
    {
        var logits = F(new[] { 1f, 2f, 3f, 1f, 1f, 1f, -1f, 0.5f, 4f }, 3, 3);
        double expected = ((Lse(1, 2, 3) - 3) + (Lse(1, 1, 1) - 1) + (Lse(-1, 0.5, 4) - 0.5)) / 3;
        Check.Close(new[] { expected }, Losses.SoftmaxCrossEntropy(logits, I(2, 0, 1)).ToDoubleArray(), 1e-6);
        var oneHot = F(new[] { 0f, 0f, 1f, 1f, 0f, 0f, 0f, 1f, 0f }, 3, 3);
        Check.Close(new[] { expected }, Losses.SoftmaxCrossEntropy(logits, oneHot).ToDoubleArray(), 1e-6);
        // Soft labels: -Σ p log softmax.
        var soft = F(new[] { 0.5f, 0.5f, 0f }, 1, 3);
        double e2 = 0.5 * (Lse(1, 2, 3) - 1) + 0.5 * (Lse(1, 2, 3) - 2);
        Check.Close(new[] { e2 }, Losses.SoftmaxCrossEntropy(F(new[] { 1f, 2f, 3f }, 1, 3), soft).ToDoubleArray(), 1e-6);
        // Per-example values.
        Check.Close(new[] { Lse(1, 2, 3) - 3, Lse(1, 1, 1) - 1, Lse(-1, 0.5, 4) - 0.5 },
            Losses.SoftmaxCrossEntropyPerExample(logits, I(2, 0, 1)).ToDoubleArray(), 1e-6);
    }

    [Fact]
    public void CrossEntropyIsStableForHugeLogits()
    {
        var logits = F(new[] { 1e4f, 0f, -1e4f, 1e4f, 1e4f, 0f }, 2, 3);
        // Row 0, label 0: log(1 + e^-1e4 + e^-2e4) = 0. Row 1, label 2: 1e4 + log 2.
        var perEx = Losses.SoftmaxCrossEntropyPerExample(logits, I(0, 2)).ToDoubleArray();
        Check.Close(new[] { 0.0, 1e4 + Math.Log(2) }, perEx, 1e-6);
        var g = Transforms.Grad(l => Losses.SoftmaxCrossEntropy(l, I(0, 2)))(logits).ToDoubleArray();
        // d/dlogits of the mean = (softmax - onehot) / batch.
        Check.Close(new[] { 0, 0, 0, 0.25, 0.25, -0.5 }, g, 0, 1e-6);
    }

    [Fact]
    public void NegativeInfinityPaddingContributesNothing()
    {
        float ninf = float.NegativeInfinity;
        var logits = F(new[] { 2f, 0f, ninf, ninf }, 1, 4);
        double expected = Lse(2, 0) - 2;
        Check.Close(new[] { expected }, Losses.SoftmaxCrossEntropy(logits, I(0)).ToDoubleArray(), 1e-6);
        var oneHot = F(new[] { 1f, 0f, 0f, 0f }, 1, 4);
        Check.Close(new[] { expected }, Losses.SoftmaxCrossEntropy(logits, oneHot).ToDoubleArray(), 1e-6);
        double p0 = Math.Exp(2 - Lse(2, 0)), p1 = Math.Exp(0 - Lse(2, 0));
        foreach (var labels in new[] { I(0), oneHot })
        {
            var g = Transforms.Grad(l => Losses.SoftmaxCrossEntropy(l, labels))(logits).ToDoubleArray();
            Check.Close(new[] { p0 - 1, p1, 0, 0 }, g, 1e-6, 1e-7);
        }
    }

    [Fact]
    public void CrossEntropyOverExtraBatchAxesAndJit()
    {
        var logits = TestData.Tensor(11, new[] { 2, 3, 5 });
        var labels = Tensor.FromArray(new[] { 0, 4, 2, 1, 3, 3 }, 2, 3);
        var l = logits.ToDoubleArray();
        var lab = labels.ToArray<int>();
        double sum = 0;
        for (int e = 0; e < 6; e++) sum += Lse(l.Skip(e * 5).Take(5).ToArray()) - l[e * 5 + lab[e]];
        Check.Close(new[] { sum / 6 }, Losses.SoftmaxCrossEntropy(logits, labels).ToDoubleArray(), 1e-5);
        var jitted = Transforms.Jit((a, b) => Losses.SoftmaxCrossEntropy(a, b));
        Check.Close(new[] { sum / 6 }, jitted(logits, labels).ToDoubleArray(), 1e-5);
    }

    [Fact]
    public void MeanSquaredErrorMatchesHand()
    {
        var p = F(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        var t = F(new[] { 1.5f, 2f, 1f, 5f }, 2, 2);
        Check.Close(new[] { (0.25 + 0 + 4 + 1) / 4 }, Losses.MeanSquaredError(p, t).ToDoubleArray(), 1e-7);
        var g = Transforms.Grad(x => Losses.MeanSquaredError(x, t))(p).ToDoubleArray();
        Check.Close(new[] { 2 * -0.5 / 4, 0, 2 * 2.0 / 4, 2 * -1.0 / 4 }, g, 1e-7);
    }

    [Fact]
    public void AccuracyWithIntegerAndOneHotLabels()
    {
        var logits = F(new[] { 0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f, 5f, -1f }, 4, 2);
        // Predictions 1, 0, 1, 0.
        Check.Close(new[] { 0.75 }, Losses.Accuracy(logits, I(1, 0, 0, 0)).ToDoubleArray());
        Check.Close(new[] { 0.0 }, Losses.Accuracy(logits, I(0, 1, 0, 1)).ToDoubleArray());
        var oneHot = Np.OneHot(I(1, 0, 1, 0), 2);
        Check.Close(new[] { 1.0 }, Losses.Accuracy(logits, oneHot).ToDoubleArray());
    }

    [Fact]
    public void BadInputsThrow()
    {
        var logits = Tensor.Zeros(new Shape(4, 3));
        Check.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(logits, I(0, 1, 2)), "SoftmaxCrossEntropy", "shape (4,)", "(3,)");
        Check.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(logits, Tensor.Zeros(new Shape(4, 2))), "SoftmaxCrossEntropy", "(4, 3)", "(4, 2)");
        Check.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(logits, Tensor.Zeros(new Shape(4), DType.Bool)), "SoftmaxCrossEntropy", "bool");
        Check.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(Tensor.Zeros(new Shape(4, 3), DType.Int32), I(0, 1, 2, 0)), "SoftmaxCrossEntropy", "floating");
        Check.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy(Tensor.Scalar(1), I(0)), "SoftmaxCrossEntropy", "rank");
        Check.Throws<ArgumentException>(() => Losses.MeanSquaredError(Tensor.Zeros(new Shape(4, 1)), Tensor.Zeros(new Shape(4))), "MeanSquaredError", "(4, 1)", "(4,)");
        Check.Throws<ArgumentException>(() => Losses.Accuracy(logits, I(0, 1)), "Accuracy", "(4,)", "(2,)");
    }
}
