namespace Stax.Optim;

/// <summary>
/// A step-size schedule (jax.example_libraries.optimizers.Schedule): maps the iteration index to
/// a step size. The step is a scalar tensor (an <c>int</c> converts implicitly), possibly a traced
/// one inside <c>Jit</c>, so schedules are written with tensor operations. The result is a
/// float32 scalar tensor.
/// </summary>
public delegate Tensor Schedule(Tensor step);

/// <summary>
/// The schedules of jax.example_libraries.optimizers, with the same formulas: <see cref="Constant"/>,
/// <see cref="ExponentialDecay"/>, <see cref="InverseTimeDecay"/>, <see cref="PolynomialDecay"/> and
/// <see cref="PiecewiseConstant"/>. All work on traced steps (they use only tensor operations).
/// optax's schedules, whose semantics differ (e.g. <c>piecewise_constant_schedule</c> multiplies by scales
/// from a boundary on), are <see cref="Optax.CosineDecaySchedule"/>, <see cref="Optax.ExponentialDecay"/>,
/// <see cref="Optax.PiecewiseConstantSchedule"/> and the others in <see cref="Optax"/>.
/// </summary>
public static class Schedules
{
    /// <summary>The step as a float32 scalar tensor; throws for non-scalar or non-numeric steps.</summary>
    internal static Tensor StepAsFloat(Tensor step, string who)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Rank != 0)
            throw new ArgumentException($"{who}: the step must be a scalar (shape ()), got shape {step.Shape}");
        if (step.DType == DType.Bool)
            throw new ArgumentException($"{who}: the step must be an integer or float scalar, got dtype {step.DType.Name()}");
        return Lax.ConvertElementType(step, DType.Float32);
    }

    /// <summary><c>constant(step_size)</c>: the same step size at every step.</summary>
    public static Schedule Constant(double stepSize) => step =>
    {
        StepAsFloat(step, "Constant");
        return Tensor.Scalar(stepSize);
    };

    /// <summary><c>exponential_decay</c>: <c>stepSize * decayRate ^ (step / decaySteps)</c> (continuous, no staircase).</summary>
    public static Schedule ExponentialDecay(double stepSize, double decaySteps, double decayRate)
    {
        if (decaySteps == 0) throw new ArgumentException("ExponentialDecay: decaySteps must be non-zero, got 0");
        return step =>
        {
            var i = StepAsFloat(step, "ExponentialDecay");
            return stepSize * Np.Power(decayRate, i / decaySteps);
        };
    }

    /// <summary>
    /// <c>inverse_time_decay</c>: <c>stepSize / (1 + decayRate * step / decaySteps)</c>, or with
    /// <paramref name="staircase"/> <c>stepSize / (1 + decayRate * floor(step / decaySteps))</c>.
    /// </summary>
    public static Schedule InverseTimeDecay(double stepSize, double decaySteps, double decayRate, bool staircase = false)
    {
        if (decaySteps == 0) throw new ArgumentException("InverseTimeDecay: decaySteps must be non-zero, got 0");
        if (staircase)
            return step =>
            {
                var i = StepAsFloat(step, "InverseTimeDecay");
                return stepSize / (1 + decayRate * Np.Floor(i / decaySteps));
            };
        return step =>
        {
            var i = StepAsFloat(step, "InverseTimeDecay");
            return stepSize / (1 + decayRate * i / decaySteps);
        };
    }

    /// <summary>
    /// <c>polynomial_decay</c>: with <c>s = min(step, decaySteps)</c>,
    /// <c>(1 - s / decaySteps) ^ power * (stepSize - finalStepSize) + finalStepSize</c>; constant at
    /// <paramref name="finalStepSize"/> from <paramref name="decaySteps"/> on.
    /// </summary>
    public static Schedule PolynomialDecay(double stepSize, double decaySteps, double finalStepSize, double power = 1.0)
    {
        if (decaySteps == 0) throw new ArgumentException("PolynomialDecay: decaySteps must be non-zero, got 0");
        return step =>
        {
            var i = Np.Minimum(StepAsFloat(step, "PolynomialDecay"), decaySteps);
            var mult = Np.Power(1 - i / decaySteps, power);
            return mult * (stepSize - finalStepSize) + finalStepSize;
        };
    }

    /// <summary>
    /// <c>piecewise_constant</c>: <c>values[k]</c> where k is the number of boundaries strictly below
    /// the step (<c>values[sum(step &gt; boundaries)]</c>), so at a step equal to a boundary the earlier
    /// value still holds. Needs <c>values.Length == boundaries.Length + 1</c>.
    /// </summary>
    public static Schedule PiecewiseConstant(double[] boundaries, double[] values)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != boundaries.Length + 1)
            throw new ArgumentException($"PiecewiseConstant: boundaries length must be one shorter than values length, got {boundaries.Length} boundaries and {values.Length} values");
        var b = boundaries.Select(x => (float)x).ToArray();
        var v = values.Select(x => (float)x).ToArray();
        return step =>
        {
            var i = StepAsFloat(step, "PiecewiseConstant");
            var bt = Tensor.FromArray(b, b.Length);
            var vt = Tensor.FromArray(v, v.Length);
            var k = Np.Sum(Lax.ConvertElementType(Np.Greater(i, bt), DType.Int32));
            return Np.Take(vt, k);
        };
    }

    /// <summary>Wraps a fixed step size as a <see cref="Constant"/> schedule (JAX's make_schedule for scalars).</summary>
    public static Schedule MakeSchedule(double stepSize) => Constant(stepSize);
}
