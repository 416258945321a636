namespace Stax.Optim;

// optax's schedules (optax/schedules/_schedule.py, _join.py): functions of the update count with optax's
// semantics, edge cases and order of operations. (Schedules holds jax.example_libraries' schedules, which
// differ: e.g. its piecewise_constant takes values and switches after a boundary, optax's takes scales
// and switches at it.)
public static partial class Optax
{
    /// <summary>Checks that the count is a numeric scalar and returns it unchanged (integer counts stay integers, as in optax).</summary>
    static Tensor CheckCount(Tensor count, string who)
    {
        ArgumentNullException.ThrowIfNull(count);
        if (count.Rank != 0)
            throw new ArgumentException($"{who}: the count must be a scalar (shape ()), got shape {count.Shape}");
        if (count.DType == DType.Bool)
            throw new ArgumentException($"{who}: the count must be an integer or float scalar, got dtype {count.DType.Name()}");
        return count;
    }

    static Tensor F32(Tensor x) => Lax.ConvertElementType(x, DType.Float32);

    /// <summary><c>optax.constant_schedule</c>: <paramref name="value"/> at every count.</summary>
    public static Schedule ConstantSchedule(double value) => count =>
    {
        CheckCount(count, "ConstantSchedule");
        return Tensor.Scalar(value);
    };

    /// <summary>
    /// <c>optax.polynomial_schedule</c>: with <c>c = clip(count - transitionBegin, 0, transitionSteps)</c>,
    /// <c>(initValue - endValue) * (1 - c / transitionSteps)^power + endValue</c>. A non-positive
    /// <paramref name="transitionSteps"/> gives the constant <paramref name="initValue"/> and a negative
    /// <paramref name="transitionBegin"/> counts as 0, as in optax.
    /// </summary>
    public static Schedule PolynomialSchedule(double initValue, double endValue, double power, int transitionSteps, int transitionBegin = 0)
    {
        if (transitionSteps <= 0) return ConstantSchedule(initValue);
        transitionBegin = Math.Max(transitionBegin, 0);
        return count =>
        {
            var c = Np.Clip(CheckCount(count, "PolynomialSchedule") - transitionBegin, 0, transitionSteps);
            var frac = 1 - c / transitionSteps;
            return F32((initValue - endValue) * Np.Power(frac, power) + endValue);
        };
    }

    /// <summary><c>optax.linear_schedule</c>: <see cref="PolynomialSchedule"/> with power 1, from <paramref name="initValue"/> to <paramref name="endValue"/>.</summary>
    public static Schedule LinearSchedule(double initValue, double endValue, int transitionSteps, int transitionBegin = 0)
        => PolynomialSchedule(initValue, endValue, 1, transitionSteps, transitionBegin);

    /// <summary>
    /// <c>optax.piecewise_constant_schedule</c>: starts at <paramref name="initValue"/> and, at each boundary
    /// (in increasing order), multiplies the value by that boundary's scale from the boundary on:
    /// at <c>count == boundary</c> the scale already applies. Scales must be non-negative.
    /// <code>Optax.PiecewiseConstantSchedule(0.1, new Dictionary&lt;int, double&gt; { [100] = 0.1, [200] = 0.5 })
    /// // 0.1 before 100, 0.01 from 100, 0.005 from 200</code>
    /// </summary>
    public static Schedule PiecewiseConstantSchedule(double initValue, IReadOnlyDictionary<int, double>? boundariesAndScales = null)
    {
        var steps = (boundariesAndScales ?? new Dictionary<int, double>()).OrderBy(kv => kv.Key).ToArray();
        if (steps.Any(kv => !(kv.Value >= 0)))
            throw new ArgumentException($"PiecewiseConstantSchedule: scales must be non-negative, got {string.Join(", ", steps.Select(kv => $"{kv.Key}: {kv.Value}"))}");
        return count =>
        {
            CheckCount(count, "PiecewiseConstantSchedule");
            Tensor v = initValue;
            foreach (var (threshold, scale) in steps)
            {
                // optax: indicator = max(0, sign(threshold - count)), 1 strictly before the boundary.
                var indicator = Np.Maximum(0.0, Np.Sign(threshold - count));
                v = v * indicator + (1 - indicator) * scale * v;
            }
            return F32(v);
        };
    }

    /// <summary>
    /// <c>optax.exponential_decay</c>: <paramref name="initValue"/> until <paramref name="transitionBegin"/>, then
    /// <c>initValue * decayRate^((count - transitionBegin) / transitionSteps)</c> (the exponent floored with
    /// <paramref name="staircase"/>), bounded by <paramref name="endValue"/> when given (a floor when decaying, a
    /// ceiling when growing). As in optax, a non-positive <paramref name="transitionSteps"/> or a zero
    /// <paramref name="decayRate"/> gives the constant <paramref name="initValue"/>, and a negative
    /// <paramref name="transitionBegin"/> counts as 0.
    /// </summary>
    public static Schedule ExponentialDecay(double initValue, int transitionSteps, double decayRate, int transitionBegin = 0,
        bool staircase = false, double? endValue = null)
    {
        if (transitionSteps <= 0 || decayRate == 0) return ConstantSchedule(initValue);
        transitionBegin = Math.Max(transitionBegin, 0);
        return count =>
        {
            var decreased = CheckCount(count, "ExponentialDecay") - transitionBegin;
            var p = decreased / transitionSteps;
            if (staircase) p = Np.Floor(p);
            var value = Np.Where(decreased <= 0, initValue, initValue * Np.Power(decayRate, p));
            if (endValue is double e) value = decayRate < 1.0 ? Np.Maximum(value, e) : Np.Minimum(value, e);
            return F32(value);
        };
    }

    /// <summary>
    /// <c>optax.cosine_decay_schedule</c>: with <c>c = min(count, decaySteps)</c>,
    /// <c>initValue * ((1 - alpha) * (½ (1 + cos(π c / decaySteps)))^exponent + alpha)</c>; from
    /// <paramref name="decaySteps"/> on it stays at <c>alpha * initValue</c>. <paramref name="decaySteps"/> must be positive.
    /// </summary>
    public static Schedule CosineDecaySchedule(double initValue, int decaySteps, double alpha = 0.0, double exponent = 1.0)
    {
        if (!(decaySteps > 0))
            throw new ArgumentException($"CosineDecaySchedule: decaySteps must be positive, got {decaySteps}");
        return count =>
        {
            // optax turns the count to float before the minimum (avoids int32 overflow in jitted code).
            var c = Np.Minimum(F32(CheckCount(count, "CosineDecaySchedule")), (double)decaySteps);
            var cosine = 0.5 * (1 + Np.Cos(Math.PI * c / decaySteps));
            var decayed = (1 - alpha) * Np.Power(cosine, exponent) + alpha;
            return F32(initValue * decayed);
        };
    }

    /// <summary>
    /// <c>optax.join_schedules</c>: <c>schedules[0]</c> until <c>boundaries[0]</c>, then <c>schedules[1]</c> on
    /// the count since that boundary, and so on (<c>boundaries.Length == schedules.Length - 1</c>).
    /// </summary>
    public static Schedule JoinSchedules(Schedule[] schedules, int[] boundaries)
    {
        ArgumentNullException.ThrowIfNull(schedules);
        ArgumentNullException.ThrowIfNull(boundaries);
        if (schedules.Length == 0 || boundaries.Length != schedules.Length - 1)
            throw new ArgumentException($"JoinSchedules: needs one boundary fewer than schedules, got {schedules.Length} schedules and {boundaries.Length} boundaries");
        var ss = schedules.ToArray();
        var bs = boundaries.ToArray();
        return count =>
        {
            var output = ss[0](count);
            for (int i = 0; i < bs.Length; i++)
                output = Np.Where(count < bs[i], output, ss[i + 1](count - bs[i]));
            return output;
        };
    }

    /// <summary>
    /// <c>optax.warmup_cosine_decay_schedule</c>: linear from <paramref name="initValue"/> to <paramref name="peakValue"/>
    /// over <paramref name="warmupSteps"/>, then a cosine decay to <paramref name="endValue"/> over the remaining
    /// <c>decaySteps - warmupSteps</c> (so <paramref name="decaySteps"/> counts the warmup, as in optax, and must exceed it).
    /// </summary>
    public static Schedule WarmupCosineDecaySchedule(double initValue, double peakValue, int warmupSteps, int decaySteps,
        double endValue = 0.0, double exponent = 1.0)
    {
        double alpha = peakValue == 0.0 ? 0.0 : endValue / peakValue;
        return JoinSchedules(new[]
        {
            LinearSchedule(initValue, peakValue, warmupSteps),
            CosineDecaySchedule(peakValue, decaySteps - warmupSteps, alpha, exponent),
        }, new[] { warmupSteps });
    }

    /// <summary>
    /// <c>optax.warmup_exponential_decay_schedule</c>: linear from <paramref name="initValue"/> to
    /// <paramref name="peakValue"/> over <paramref name="warmupSteps"/>, then <see cref="ExponentialDecay"/> from
    /// <paramref name="peakValue"/> on the count since the warmup.
    /// </summary>
    public static Schedule WarmupExponentialDecaySchedule(double initValue, double peakValue, int warmupSteps, int transitionSteps,
        double decayRate, int transitionBegin = 0, bool staircase = false, double? endValue = null)
        => JoinSchedules(new[]
        {
            LinearSchedule(initValue, peakValue, warmupSteps),
            ExponentialDecay(peakValue, transitionSteps, decayRate, transitionBegin, staircase, endValue),
        }, new[] { warmupSteps });
}
