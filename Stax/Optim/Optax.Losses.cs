using Stax.Nn;

namespace Stax.Optim;

// optax's losses (optax/losses/_regression.py, _classification.py, _smoothing.py): per-example values,
// not averaged (as optax; average with Np.Mean), with optax's formulas and argument conventions.
public static partial class Optax
{
    static void CheckFloat(string who, string what, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!x.DType.IsFloat())
            throw new ArgumentException($"{who}: {what} must be floating point, got dtype {x.DType.Name()}");
    }

    /// <summary><c>optax.squared_error</c>: <c>(predictions - targets)²</c> elementwise (<c>predictions²</c> without targets); the shapes must be equal.</summary>
    public static Tensor SquaredError(Tensor predictions, Tensor? targets = null)
    {
        CheckFloat("SquaredError", "predictions", predictions);
        if (targets is not null && targets.Shape != predictions.Shape)
            throw new ArgumentException($"SquaredError: predictions and targets must have the same shape, got {predictions.Shape} and {targets.Shape}");
        var e = targets is null ? predictions : predictions - targets;
        return e * e;
    }

    /// <summary><c>optax.l2_loss</c>: <c>0.5 * (predictions - targets)²</c> elementwise (no mean, half the squared error).</summary>
    public static Tensor L2Loss(Tensor predictions, Tensor? targets = null) => 0.5 * SquaredError(predictions, targets);

    /// <summary>
    /// <c>optax.huber_loss</c>: elementwise <c>½ e²</c> for <c>|e| ≤ delta</c> and <c>½ delta² + delta (|e| - delta)</c>
    /// beyond, with <c>e = predictions - targets</c> (computed as optax: <c>q = min(|e|, delta)</c>,
    /// <c>½ q² + delta (|e| - q)</c>).
    /// </summary>
    public static Tensor HuberLoss(Tensor predictions, Tensor? targets = null, double delta = 1.0)
    {
        CheckFloat("HuberLoss", "predictions", predictions);
        var abs = Np.Abs(targets is null ? predictions : predictions - targets);
        var quadratic = Np.Minimum(abs, delta);
        var linear = abs - quadratic;
        return 0.5 * (quadratic * quadratic) + delta * linear;
    }

    /// <summary>
    /// <c>optax.sigmoid_binary_cross_entropy</c>: elementwise <c>-labels log σ(logits) - (1 - labels) log σ(-logits)</c>,
    /// with <see cref="Activations.LogSigmoid"/> so huge logits stay finite. Labels (cast to the logits' dtype) may be soft.
    /// </summary>
    public static Tensor SigmoidBinaryCrossEntropy(Tensor logits, Tensor labels)
    {
        CheckFloat("SigmoidBinaryCrossEntropy", "logits", logits);
        ArgumentNullException.ThrowIfNull(labels);
        var y = Lax.ConvertElementType(labels, logits.DType);
        var logP = Activations.LogSigmoid(logits);
        var logNotP = Activations.LogSigmoid(-logits);
        return -y * logP - (1.0 - y) * logNotP;
    }

    /// <summary>
    /// <c>optax.softmax_cross_entropy</c>: <c>-Σ labels * log_softmax(logits)</c> over <paramref name="axis"/>, per example.
    /// Labels are probabilities (e.g. one-hot, or <see cref="SmoothLabels"/>). As in optax, a zero label times a
    /// <c>-inf</c> logit gives NaN (<see cref="Losses.SoftmaxCrossEntropy"/> treats it as 0).
    /// </summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor labels, int axis = -1)
    {
        CheckFloat("SoftmaxCrossEntropy", "logits", logits);
        ArgumentNullException.ThrowIfNull(labels);
        return -Np.Sum(labels * Np.LogSoftmax(logits, axis), axis);
    }

    /// <summary>
    /// <c>optax.softmax_cross_entropy_with_integer_labels</c>: <c>logsumexp(logits) - logits[label]</c> over
    /// <paramref name="axis"/>, per example; <paramref name="labels"/> are integer class indices with the logits'
    /// shape without that axis.
    /// </summary>
    public static Tensor SoftmaxCrossEntropyWithIntegerLabels(Tensor logits, Tensor labels, int axis = -1)
    {
        CheckFloat("SoftmaxCrossEntropyWithIntegerLabels", "logits", logits);
        ArgumentNullException.ThrowIfNull(labels);
        if (!labels.DType.IsInteger())
            throw new ArgumentException($"SoftmaxCrossEntropyWithIntegerLabels: labels must be integers, got dtype {labels.DType.Name()}");
        int a = logits.Shape.Axis(axis, "SoftmaxCrossEntropyWithIntegerLabels");
        var labelLogits = Np.Squeeze(Np.TakeAlongAxis(logits, Np.ExpandDims(labels, a), a), new[] { a });
        return Np.LogSumExp(logits, a) - labelLogits;
    }

    /// <summary>
    /// <c>optax.smooth_labels</c>: <c>(1 - alpha) * labels + alpha / K</c>, K the size of the last axis (the number of
    /// classes). Labels must be floating point (e.g. from <see cref="Activations.OneHot"/>).
    /// </summary>
    public static Tensor SmoothLabels(Tensor labels, double alpha)
    {
        CheckFloat("SmoothLabels", "labels", labels);
        if (labels.Rank == 0) throw new ArgumentException("SmoothLabels: labels need a class axis, got a scalar");
        return (1.0 - alpha) * labels + alpha / labels.Shape[labels.Rank - 1];
    }

    /// <summary>
    /// <c>optax.kl_divergence</c>: KL(targets ‖ predictions) = <c>Σ targets * (log targets - logPredictions)</c> over
    /// <paramref name="axis"/>, with optax's argument order (log-probabilities first, then probabilities); zero
    /// targets contribute 0.
    /// </summary>
    public static Tensor KlDivergence(Tensor logPredictions, Tensor targets, int axis = -1)
    {
        CheckFloat("KlDivergence", "logPredictions", logPredictions);
        CheckFloat("KlDivergence", "targets", targets);
        var loss = targets * (Np.Where(targets.Eq(0), 0, Np.Log(targets)) - logPredictions);
        return Np.Sum(loss, axis);
    }

    /// <summary>
    /// <c>optax.cosine_similarity</c>: <c>Σ (a / ‖a‖) (b / ‖b‖)</c> over <paramref name="axis"/>, where each squared norm
    /// is first raised to at least <paramref name="epsilon"/> (so zero vectors give 0, not NaN, once epsilon &gt; 0).
    /// </summary>
    public static Tensor CosineSimilarity(Tensor predictions, Tensor targets, double epsilon = 0.0, int axis = -1)
    {
        CheckFloat("CosineSimilarity", "predictions", predictions);
        CheckFloat("CosineSimilarity", "targets", targets);
        var aNorm = Np.Sqrt(Np.Maximum(Np.Sum(predictions * predictions, axis, keepdims: true), epsilon));
        var bNorm = Np.Sqrt(Np.Maximum(Np.Sum(targets * targets, axis, keepdims: true), epsilon));
        return Np.Sum(predictions / aNorm * (targets / bNorm), axis);
    }

    /// <summary><c>optax.cosine_distance</c>: <c>1 - </c><see cref="CosineSimilarity"/>.</summary>
    public static Tensor CosineDistance(Tensor predictions, Tensor targets, double epsilon = 0.0, int axis = -1)
        => 1.0 - CosineSimilarity(predictions, targets, epsilon, axis);
}
