namespace Stax.Optim;

/// <summary>
/// Losses and metrics, averaged over the batch (every axis but the class axis), computed in a
/// numerically stable way: cross-entropy goes through <see cref="Np.LogSoftmax"/> (huge logits such
/// as 1e4 give exact results), and classes whose logit is <c>-inf</c> (padding) contribute nothing
/// and get zero gradient, as long as their label weight is 0. optax's per-example losses (<c>l2_loss</c>,
/// <c>softmax_cross_entropy</c>, ...) are in <see cref="Optax"/> (<see cref="Optax.L2Loss"/>, ...).
/// </summary>
public static class Losses
{
    /// <summary>
    /// Softmax cross-entropy from logits, averaged over the batch. With integer labels (shape
    /// <c>logits.Shape[..^1]</c>) the per-example loss is <c>-log_softmax(logits)[label]</c>
    /// (labels out of range give NaN; negative labels count from the end, as take_along_axis); with
    /// float labels of the logits' shape (one-hot or probabilities) it is <c>-Σ labels * log_softmax(logits)</c>,
    /// where zero labels contribute exactly 0 (also at <c>-inf</c> logits).
    /// </summary>
    public static Tensor SoftmaxCrossEntropy(Tensor logits, Tensor labels) => Np.Mean(SoftmaxCrossEntropyPerExample(logits, labels));

    /// <summary>The per-example losses of <see cref="SoftmaxCrossEntropy"/> (shape <c>logits.Shape[..^1]</c>).</summary>
    public static Tensor SoftmaxCrossEntropyPerExample(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        CheckLogits("SoftmaxCrossEntropy", logits);
        var logp = Np.LogSoftmax(logits, -1);
        if (labels.DType.IsInteger())
        {
            CheckIntLabels("SoftmaxCrossEntropy", logits, labels);
            var idx = Np.ExpandDims(labels, -1);
            var picked = Np.TakeAlongAxis(logp, idx, -1);
            return -Np.Squeeze(picked, new[] { -1 });
        }
        if (labels.DType.IsFloat())
        {
            if (labels.Shape != logits.Shape)
                throw new ArgumentException($"SoftmaxCrossEntropy: one-hot/probability labels must have the logits' shape {logits.Shape}, got {labels.Shape}");
            var lab = Lax.ConvertElementType(labels, logp.DType);
            var terms = Np.Where(lab.Eq(0), 0.0, lab * logp);
            return -Np.Sum(terms, -1);
        }
        throw new ArgumentException($"SoftmaxCrossEntropy: labels must be integers (class indices) or floats (one-hot), got dtype {labels.DType.Name()}");
    }

    /// <summary>Mean of <c>(predictions - targets)²</c> over all elements; the shapes must be equal (no silent broadcasting).</summary>
    public static Tensor MeanSquaredError(Tensor predictions, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        if (predictions.Shape != targets.Shape)
            throw new ArgumentException($"MeanSquaredError: predictions and targets must have the same shape, got {predictions.Shape} and {targets.Shape}");
        var d = predictions - targets;
        return Np.Mean(d * d);
    }

    /// <summary>
    /// Fraction of examples whose arg-max logit is the label (float32 scalar). Labels are integer class
    /// indices of shape <c>logits.Shape[..^1]</c>, or one-hot floats of the logits' shape (their arg-max is used).
    /// </summary>
    public static Tensor Accuracy(Tensor logits, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        CheckLogits("Accuracy", logits);
        var pred = Np.Argmax(logits, -1);
        Tensor target;
        if (labels.DType.IsInteger())
        {
            CheckIntLabels("Accuracy", logits, labels);
            target = labels;
        }
        else if (labels.DType.IsFloat() && labels.Shape == logits.Shape) target = Np.Argmax(labels, -1);
        else throw new ArgumentException($"Accuracy: labels must be integer class indices of shape {LeadShape(logits)} or one-hot floats of shape {logits.Shape}, got {labels.DType.Name()} {labels.Shape}");
        var hit = Np.Equal(Lax.ConvertElementType(pred, DType.Int32), Lax.ConvertElementType(target, DType.Int32));
        return Np.Mean(Lax.ConvertElementType(hit, DType.Float32));
    }

    static Shape LeadShape(Tensor logits) => new(logits.Shape.ToArray()[..^1]);

    static void CheckLogits(string who, Tensor logits)
    {
        if (logits.Rank < 1)
            throw new ArgumentException($"{who}: logits must have a class axis (rank >= 1), got shape {logits.Shape}");
        if (!logits.DType.IsFloat())
            throw new ArgumentException($"{who}: logits must be floating point, got dtype {logits.DType.Name()}");
    }

    static void CheckIntLabels(string who, Tensor logits, Tensor labels)
    {
        if (labels.Shape != LeadShape(logits))
            throw new ArgumentException($"{who}: integer labels must have shape {LeadShape(logits)} (the logits' shape {logits.Shape} without the class axis), got {labels.Shape}");
    }
}
