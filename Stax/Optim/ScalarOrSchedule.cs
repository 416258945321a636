namespace Stax.Optim;

/// <summary>
/// optax's <c>ScalarOrSchedule</c>: a learning rate that is either a fixed number or a <see cref="Schedule"/>
/// of the update count. A <c>double</c> or a <see cref="Optim.Schedule"/> converts implicitly, so
/// <c>Optax.Lion(1e-4)</c> and <c>Optax.Lion(Optax.CosineDecaySchedule(1e-4, 1000))</c> both work.
/// </summary>
public readonly struct ScalarOrSchedule
{
    ScalarOrSchedule(double value, Schedule? schedule)
    {
        Value = value;
        Schedule = schedule;
    }

    /// <summary>The fixed value (ignored when <see cref="Schedule"/> is set).</summary>
    public double Value { get; }

    /// <summary>The schedule, or <c>null</c> for a fixed <see cref="Value"/>.</summary>
    public Schedule? Schedule { get; }

    /// <summary>A fixed value.</summary>
    public static implicit operator ScalarOrSchedule(double value) => new(value, null);

    /// <summary>A schedule of the update count.</summary>
    public static implicit operator ScalarOrSchedule(Schedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return new(0, schedule);
    }

    /// <inheritdoc/>
    public override string ToString() => Schedule is null ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "schedule";
}
