using Stax.Optim;
using Stax.Tests.Infrastructure;

namespace Stax.Tests.Optim;

/// <summary>Schedules at their boundaries, eagerly and with traced steps, against the formulas evaluated here.</summary>
public class ScheduleTests
{
    static double At(Schedule s, int step) => s(step).ToDoubleArray()[0];

    static double AtJit(Schedule s, int step) => Transforms.Jit(i => s(i))(Tensor.Scalar(step, DType.Int32)).ToDoubleArray()[0];

    static void Expect(Schedule s, (int Step, double Value)[] cases)
    {
        foreach (var (step, value) in cases)
        {
            Check.Close(new[] { value }, new[] { At(s, step) }, 1e-6, 1e-9, $"eager step {step}");
            Check.Close(new[] { value }, new[] { AtJit(s, step) }, 1e-6, 1e-9, $"traced step {step}");
        }
    }

    [Fact]
    public void Constant() => Expect(Schedules.Constant(0.1), new[] { (0, 0.1), (1, 0.1), (1000, 0.1) });

    [Fact]
    public void ExponentialDecayIsContinuous() => Expect(Schedules.ExponentialDecay(0.1, 10, 0.5), new[]
    {
        (0, 0.1), (5, 0.1 * Math.Pow(0.5, 0.5)), (10, 0.05), (20, 0.025), (25, 0.1 * Math.Pow(0.5, 2.5)),
    });

    [Fact]
    public void InverseTimeDecay() => Expect(Schedules.InverseTimeDecay(1.0, 10, 1.0), new[]
    {
        (0, 1.0), (5, 1 / 1.5), (10, 0.5), (15, 1 / 2.5),
    });

    [Fact]
    public void InverseTimeDecayStaircaseJumpsAtMultiples() => Expect(Schedules.InverseTimeDecay(1.0, 10, 1.0, staircase: true), new[]
    {
        (0, 1.0), (9, 1.0), (10, 0.5), (19, 0.5), (20, 1 / 3.0), (29, 1 / 3.0), (30, 0.25),
    });

    [Fact]
    public void PolynomialDecayHoldsTheFinalValueAfterDecaySteps() => Expect(Schedules.PolynomialDecay(1.0, 10, 0.1, power: 2), new[]
    {
        (0, 1.0), (5, 0.25 * 0.9 + 0.1), (9, 0.01 * 0.9 + 0.1), (10, 0.1), (15, 0.1),
    });

    [Fact]
    public void PolynomialDecayLinearByDefault() => Expect(Schedules.PolynomialDecay(0.5, 4, 0.0), new[] { (0, 0.5), (1, 0.375), (2, 0.25), (4, 0.0), (8, 0.0) });

    [Fact]
    public void PiecewiseConstantUsesStrictlyGreaterAtBoundaries() => Expect(Schedules.PiecewiseConstant(new double[] { 10, 20 }, new[] { 1.0, 0.5, 0.1 }), new[]
    {
        // values[sum(step > boundaries)]: at the boundary itself the earlier value holds.
        (0, 1.0), (10, 1.0), (11, 0.5), (20, 0.5), (21, 0.1), (100, 0.1), (-5, 1.0),
    });

    [Fact]
    public void PiecewiseConstantWithFloatSteps()
    {
        var s = Schedules.PiecewiseConstant(new double[] { 10 }, new[] { 1.0, 2.0 });
        Assert.Equal(1.0, s(Tensor.Scalar(10.0)).ToDoubleArray()[0]);
        Assert.Equal(2.0, s(Tensor.Scalar(10.5)).ToDoubleArray()[0]);
    }

    [Fact]
    public void BadArgumentsThrow()
    {
        Check.Throws<ArgumentException>(() => Schedules.PiecewiseConstant(new double[] { 1, 2 }, new[] { 1.0, 2.0 }), "PiecewiseConstant", "one shorter", "2 boundaries", "2 values");
        Check.Throws<ArgumentException>(() => Schedules.ExponentialDecay(1, 0, 0.5), "ExponentialDecay", "decaySteps");
        Check.Throws<ArgumentException>(() => Schedules.ExponentialDecay(1, 10, 0.5)(Tensor.Zeros(new Shape(2))), "ExponentialDecay", "scalar", "(2,)");
        Check.Throws<ArgumentException>(() => Schedules.Constant(1)(true), "Constant", "bool");
    }
}
