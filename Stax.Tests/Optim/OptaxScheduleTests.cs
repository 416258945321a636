using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Optim;

/// <summary>optax's schedules at and around their boundaries, eagerly and with traced int32 counts, against
/// the formulas of optax/schedules/_schedule.py evaluated here in double.</summary>
public class OptaxScheduleTests
{
    static void Expect(Schedule s, params (int Count, double Value)[] cases)
    {
        var jitted = Transforms.Jit(c => s(c));
        foreach (var (count, value) in cases)
        {
            var eager = s(Tensor.Scalar(count, DType.Int32));
            Assert.Equal(DType.Float32, eager.DType);
            Check.Close(new[] { value }, eager.ToDoubleArray(), 1e-6, 1e-9, $"eager count {count}");
            Check.Close(new[] { value }, jitted(Tensor.Scalar(count, DType.Int32)).ToDoubleArray(), 1e-6, 1e-9, $"traced count {count}");
        }
    }

    static double Cos(double initValue, int decaySteps, double alpha, double exponent, int count)
    {
        double c = Math.Min(count, decaySteps);
        return initValue * ((1 - alpha) * Math.Pow(0.5 * (1 + Math.Cos(Math.PI * c / decaySteps)), exponent) + alpha);
    }

    [Fact]
    public void CosineDecayReachesAlphaAtDecayStepsAndStays() => Expect(Optax.CosineDecaySchedule(2.0, 100, alpha: 0.1, exponent: 2),
        (0, 2.0), (25, Cos(2, 100, 0.1, 2, 25)), (50, 2 * (0.9 * 0.25 + 0.1)), (99, Cos(2, 100, 0.1, 2, 99)), (100, 0.2), (150, 0.2));

    [Fact]
    public void CosineDecayDefaultsDecayToZero() => Expect(Optax.CosineDecaySchedule(1.0, 10), (0, 1.0), (5, 0.5), (10, 0.0), (11, 0.0));

    [Fact]
    public void WarmupCosineDecayPeaksAtTheEndOfWarmup() => Expect(Optax.WarmupCosineDecaySchedule(0.0, 1.0, 10, 110, endValue: 0.05),
        // decay_steps counts the warmup: the cosine part runs over 100 steps from count 10 to 110.
        (0, 0.0), (5, 0.5), (9, 0.9), (10, 1.0), (60, 0.95 * 0.5 + 0.05), (85, Cos(1, 100, 0.05, 1, 75)), (110, 0.05), (500, 0.05));

    [Fact]
    public void ExponentialDecayHoldsUntilTransitionBegin() => Expect(Optax.ExponentialDecay(1.0, 10, 0.5, transitionBegin: 5),
        (0, 1.0), (5, 1.0), (6, Math.Pow(0.5, 0.1)), (10, Math.Pow(0.5, 0.5)), (15, 0.5), (35, 0.125));

    [Fact]
    public void ExponentialDecayStaircaseJumpsAtMultiplesAndClipsAtEndValue() => Expect(
        Optax.ExponentialDecay(1.0, 10, 0.5, transitionBegin: 5, staircase: true, endValue: 0.2),
        (0, 1.0), (14, 1.0), (15, 0.5), (24, 0.5), (25, 0.25), (34, 0.25), (35, 0.2), (1000, 0.2));

    [Fact]
    public void ExponentialGrowthClipsAtEndValueFromAbove() => Expect(Optax.ExponentialDecay(1.0, 10, 2.0, endValue: 3.0),
        (0, 1.0), (10, 2.0), (15, Math.Pow(2, 1.5)), (20, 3.0), (40, 3.0));

    [Fact]
    public void ExponentialDecayDegenerateArgumentsAsOptax()
    {
        // Non-positive transition_steps or a zero rate: constant; a negative transition_begin counts as 0.
        Expect(Optax.ExponentialDecay(0.3, 0, 0.5), (0, 0.3), (100, 0.3));
        Expect(Optax.ExponentialDecay(0.3, 10, 0.0), (0, 0.3), (100, 0.3));
        Expect(Optax.ExponentialDecay(1.0, 10, 0.5, transitionBegin: -5), (0, 1.0), (10, 0.5));
    }

    [Fact]
    public void WarmupExponentialDecay() => Expect(Optax.WarmupExponentialDecaySchedule(0.0, 1.0, 10, 5, 0.5, transitionBegin: 2, staircase: true, endValue: 0.2),
        (0, 0.0), (4, 0.4), (10, 1.0), (12, 1.0), (16, 1.0), (17, 0.5), (21, 0.5), (22, 0.25), (27, 0.2));

    [Fact]
    public void PiecewiseConstantMultipliesFromTheBoundaryOn() => Expect(
        Optax.PiecewiseConstantSchedule(1.0, new Dictionary<int, double> { [20] = 0.1, [10] = 0.5 }),
        // optax: indicator max(0, sign(boundary - count)) is 0 at the boundary, so the scale applies there (scales multiply).
        (-3, 1.0), (0, 1.0), (9, 1.0), (10, 0.5), (19, 0.5), (20, 0.05), (1000, 0.05));

    [Fact]
    public void PiecewiseConstantDiffersFromExampleLibrariesAtTheBoundary()
    {
        var optax = Optax.PiecewiseConstantSchedule(1.0, new Dictionary<int, double> { [10] = 0.5 });
        var stax = Schedules.PiecewiseConstant(new double[] { 10 }, new[] { 1.0, 0.5 });
        Assert.Equal(0.5, optax(10).ToDoubleArray()[0]);
        Assert.Equal(1.0, stax(10).ToDoubleArray()[0]);
        Assert.Equal(1.0, optax(Tensor.Scalar(9.5)).ToDoubleArray()[0]);
        Assert.Equal(0.5, optax(Tensor.Scalar(10.0)).ToDoubleArray()[0]);
        Expect(Optax.PiecewiseConstantSchedule(0.7), (0, 0.7), (100, 0.7));
    }

    [Fact]
    public void LinearScheduleClampsBeforeBeginAndAfterEnd() => Expect(Optax.LinearSchedule(1.0, 0.2, 10, transitionBegin: 5),
        (0, 1.0), (5, 1.0), (6, 0.92), (10, 0.6), (15, 0.2), (100, 0.2));

    [Fact]
    public void LinearScheduleWithoutStepsIsConstant() => Expect(Optax.LinearSchedule(0.4, 1.0, 0), (0, 0.4), (10, 0.4));

    [Fact]
    public void PolynomialSchedule() => Expect(Optax.PolynomialSchedule(1.0, 0.1, 2, 10),
        (0, 1.0), (3, 0.9 * 0.49 + 0.1), (10, 0.1), (11, 0.1));

    [Fact]
    public void JoinSchedulesSwitchesAtTheBoundaryWithTheCountSinceIt() => Expect(
        Optax.JoinSchedules(new[] { Optax.ConstantSchedule(3.0), Optax.LinearSchedule(1.0, 0.0, 4) }, new[] { 6 }),
        (0, 3.0), (5, 3.0), (6, 1.0), (7, 0.75), (10, 0.0));

    [Fact]
    public void BadArgumentsThrow()
    {
        Check.Throws<ArgumentException>(() => Optax.CosineDecaySchedule(1, 0), "CosineDecaySchedule", "positive");
        Check.Throws<ArgumentException>(() => Optax.WarmupCosineDecaySchedule(0, 1, 10, 10), "CosineDecaySchedule", "positive");
        Check.Throws<ArgumentException>(() => Optax.PiecewiseConstantSchedule(1, new Dictionary<int, double> { [5] = -1 }), "PiecewiseConstantSchedule", "non-negative");
        Check.Throws<ArgumentException>(() => Optax.JoinSchedules(new[] { Optax.ConstantSchedule(1) }, new[] { 1 }), "JoinSchedules");
        Check.Throws<ArgumentException>(() => Optax.LinearSchedule(1, 0, 5)(Tensor.Zeros(new Shape(2))), "PolynomialSchedule", "scalar");
    }
}
