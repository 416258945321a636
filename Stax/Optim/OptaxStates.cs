namespace Stax.Optim;

// The states of the optax transformations beyond Adam's, with optax's field names; each is
// registered as a tree node so a whole train step (state included) can run under Jit.

/// <summary>State of <see cref="Optax.ScaleByRss"/>: the running sum of squared gradients.</summary>
public sealed record ScaleByRssState(object? SumOfSquares)
{
    static ScaleByRssState() => Tree.Register<ScaleByRssState>(
        s => (new object?[] { s.SumOfSquares }, new[] { "sum_of_squares" }),
        c => new ScaleByRssState(c[0]));
}

/// <summary>State of <see cref="Optax.ScaleByRms"/> without bias correction: the second moment.</summary>
public sealed record ScaleByRmsState(object? Nu)
{
    static ScaleByRmsState() => Tree.Register<ScaleByRmsState>(
        s => (new object?[] { s.Nu }, new[] { "nu" }),
        c => new ScaleByRmsState(c[0]));
}

/// <summary>State of <see cref="Optax.ScaleByRms"/> with bias correction: the step count (int32) and the second moment.</summary>
public sealed record ScaleByRmsWithCountState(Tensor Count, object? Nu)
{
    static ScaleByRmsWithCountState() => Tree.Register<ScaleByRmsWithCountState>(
        s => (new object?[] { s.Count, s.Nu }, new[] { "count", "nu" }),
        c => new ScaleByRmsWithCountState((Tensor)c[0]!, c[1]));
}

/// <summary>State of <see cref="Optax.ScaleByStddev"/> without bias correction: the first and second moments.</summary>
public sealed record ScaleByRStdDevState(object? Mu, object? Nu)
{
    static ScaleByRStdDevState() => Tree.Register<ScaleByRStdDevState>(
        s => (new object?[] { s.Mu, s.Nu }, new[] { "mu", "nu" }),
        c => new ScaleByRStdDevState(c[0], c[1]));
}

/// <summary>State of <see cref="Optax.ScaleByStddev"/> with bias correction: the step count (int32) and both moments.</summary>
public sealed record ScaleByRStdDevWithCountState(Tensor Count, object? Mu, object? Nu)
{
    static ScaleByRStdDevWithCountState() => Tree.Register<ScaleByRStdDevWithCountState>(
        s => (new object?[] { s.Count, s.Mu, s.Nu }, new[] { "count", "mu", "nu" }),
        c => new ScaleByRStdDevWithCountState((Tensor)c[0]!, c[1], c[2]));
}

/// <summary>State of <see cref="Optax.ScaleByLion"/>: the step count (int32) and the momentum.</summary>
public sealed record ScaleByLionState(Tensor Count, object? Mu)
{
    static ScaleByLionState() => Tree.Register<ScaleByLionState>(
        s => (new object?[] { s.Count, s.Mu }, new[] { "count", "mu" }),
        c => new ScaleByLionState((Tensor)c[0]!, c[1]));
}

/// <summary>State of <see cref="Optax.Ema"/>: the step count (int32) and the moving average.</summary>
public sealed record EmaState(Tensor Count, object? Ema)
{
    static EmaState() => Tree.Register<EmaState>(
        s => (new object?[] { s.Count, s.Ema }, new[] { "count", "ema" }),
        c => new EmaState((Tensor)c[0]!, c[1]));
}

/// <summary>
/// State of <see cref="Optax.ScaleByFactoredRms"/> (Adafactor): the step count (int32) and, per parameter,
/// the row and column statistics of a factored leaf or the full second moment of an unfactored one
/// (the unused entries are zeros of shape (1,), as in optax).
/// </summary>
public sealed record FactoredState(Tensor Count, object? VRow, object? VCol, object? V)
{
    static FactoredState() => Tree.Register<FactoredState>(
        s => (new object?[] { s.Count, s.VRow, s.VCol, s.V }, new[] { "count", "v_row", "v_col", "v" }),
        c => new FactoredState((Tensor)c[0]!, c[1], c[2], c[3]));
}
