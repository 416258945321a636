namespace Stax.Optim;

// optax's optimizer aliases (optax/_src/alias.py): the same chains of transformations and the same defaults.
public static partial class Optax
{
    /// <summary><c>optax.scale_by_learning_rate</c> for a fixed rate or a schedule.</summary>
    static GradientTransformation LearningRate(ScalarOrSchedule learningRate, bool flipSign = true)
        => learningRate.Schedule is { } s ? ScaleByLearningRate(s, flipSign) : ScaleByLearningRate(learningRate.Value, flipSign);

    /// <summary><c>optax.adagrad</c>: <c>chain(scale_by_rss(initialAccumulatorValue, eps), scale_by_learning_rate)</c>.</summary>
    public static GradientTransformation Adagrad(ScalarOrSchedule learningRate, double initialAccumulatorValue = 0.1, double eps = 1e-7)
        => Chain(ScaleByRss(initialAccumulatorValue, eps), LearningRate(learningRate));

    /// <summary><c>optax.adamax</c>: <c>chain(scale_by_adamax(b1, b2, eps), scale_by_learning_rate)</c>.</summary>
    public static GradientTransformation Adamax(ScalarOrSchedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8)
        => Chain(ScaleByAdamax(b1, b2, eps), LearningRate(learningRate));

    /// <summary><c>optax.nadam</c>: <c>optax.adam</c> with <c>nesterov=True</c> (see <see cref="ScaleByAdam"/>).</summary>
    public static GradientTransformation Nadam(ScalarOrSchedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0)
        => Chain(ScaleByAdam(b1, b2, eps, epsRoot, nesterov: true), LearningRate(learningRate));

    /// <summary><c>optax.radam</c>: <c>chain(scale_by_radam(...), scale_by_learning_rate)</c>.</summary>
    public static GradientTransformation Radam(ScalarOrSchedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-8, double epsRoot = 0.0,
        double threshold = 5.0, bool nesterov = false)
        => Chain(ScaleByRadam(b1, b2, eps, epsRoot, threshold, nesterov), LearningRate(learningRate));

    /// <summary>
    /// <c>optax.rmsprop</c>: <see cref="ScaleByRms"/> (or <see cref="ScaleByStddev"/> when <paramref name="centered"/>),
    /// then the learning rate, then (as optax orders it) <see cref="Trace"/> momentum on the scaled updates when
    /// <paramref name="momentum"/> is given.
    /// </summary>
    public static GradientTransformation Rmsprop(ScalarOrSchedule learningRate, double decay = 0.9, double eps = 1e-8, double initialScale = 0.0,
        bool epsInSqrt = true, bool centered = false, double? momentum = null, bool nesterov = false, bool biasCorrection = false)
        => Chain(centered ? ScaleByStddev(decay, eps, initialScale, epsInSqrt, biasCorrection) : ScaleByRms(decay, eps, initialScale, epsInSqrt, biasCorrection),
            LearningRate(learningRate), momentum is double m ? Trace(m, nesterov) : Identity());

    /// <summary>
    /// <c>optax.lamb</c>: <c>chain(scale_by_adam(b1, b2, eps, epsRoot), add_decayed_weights(weightDecay, mask),
    /// scale_by_trust_ratio(), scale_by_learning_rate)</c>. Needs the parameters in Update.
    /// </summary>
    public static GradientTransformation Lamb(ScalarOrSchedule learningRate, double b1 = 0.9, double b2 = 0.999, double eps = 1e-6, double epsRoot = 0.0,
        double weightDecay = 0.0, Func<TreePath, Tensor, bool>? mask = null)
        => Chain(ScaleByAdam(b1, b2, eps, epsRoot), AddDecayedWeights(weightDecay, mask), ScaleByTrustRatio(), LearningRate(learningRate));

    /// <summary>
    /// <c>optax.lion</c>: <c>chain(scale_by_lion(b1, b2), add_decayed_weights(weightDecay, mask), scale_by_learning_rate)</c>.
    /// Needs the parameters in Update (for the weight decay, 1e-3 by default).
    /// </summary>
    public static GradientTransformation Lion(ScalarOrSchedule learningRate, double b1 = 0.9, double b2 = 0.99, double weightDecay = 1e-3,
        Func<TreePath, Tensor, bool>? mask = null)
        => Chain(ScaleByLion(b1, b2), AddDecayedWeights(weightDecay, mask), LearningRate(learningRate));

    /// <summary>
    /// <c>optax.adafactor</c>: <see cref="ScaleByFactoredRms"/>, then (each when enabled, in this order)
    /// <see cref="ClipByBlockRms"/>(<paramref name="clippingThreshold"/>), the learning rate (not sign-flipped),
    /// <see cref="ScaleByParamBlockRms"/>, <see cref="Ema"/>(<paramref name="momentum"/>, no debias, kept in
    /// <paramref name="dtypeMomentum"/>), <see cref="AddDecayedWeights"/>(<paramref name="weightDecayRate"/>), and a
    /// final <c>scale(-1)</c>. Without a learning rate the relative step size comes from the parameter scale
    /// alone, as in optax. Needs the parameters in Update.
    /// </summary>
    public static GradientTransformation Adafactor(ScalarOrSchedule? learningRate = null, int minDimSizeToFactor = 128, double decayRate = 0.8,
        int decayOffset = 0, bool multiplyByParameterScale = true, double? clippingThreshold = 1.0, double? momentum = null,
        DType dtypeMomentum = DType.Float32, double? weightDecayRate = null, double eps = 1e-30, bool factored = true,
        Func<TreePath, Tensor, bool>? weightDecayMask = null)
    {
        var tx = new List<GradientTransformation> { ScaleByFactoredRms(factored, decayRate, decayOffset, minDimSizeToFactor, eps) };
        if (clippingThreshold is double c) tx.Add(ClipByBlockRms(c));
        if (learningRate is ScalarOrSchedule lr) tx.Add(LearningRate(lr, flipSign: false));
        if (multiplyByParameterScale) tx.Add(ScaleByParamBlockRms());
        if (momentum is double m) tx.Add(Ema(m, debias: false, accumulatorDtype: dtypeMomentum));
        if (weightDecayRate is double w) tx.Add(AddDecayedWeights(w, weightDecayMask));
        tx.Add(Scale(-1));
        return Chain(tx.ToArray());
    }
}
