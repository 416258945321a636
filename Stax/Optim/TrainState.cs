namespace Stax.Optim;

/// <summary>
/// Everything a train step changes, as one tree (Flax's <c>flax.training.train_state.TrainState</c>):
/// the update count <see cref="Step"/> (int32 scalar), the model's <see cref="Params"/>, the
/// optimizer's <see cref="OptState"/>, the model's <see cref="ModelState"/> (BatchNorm running
/// averages, or null) and the optax-style optimizer <see cref="Tx"/>. It is a registered tree node
/// (<c>.step</c>, <c>.params</c>, <c>.opt_state</c>, <c>.model_state</c>; <see cref="Tx"/> is static), so
/// it is an argument and result of <c>Transforms.Jit</c> (donate it: <c>donateArgnums: 0</c>), of
/// <c>Tree.Map</c> and of checkpoints. A jitted train step:
/// <code>var step = Transforms.Jit((TrainState s, Tensor x, Tensor y, Key key) =&gt;
/// {
///     var ((loss, stats), grads) = Transforms.ValueAndGrad((object p) =&gt;
///     {
///         var (logits, newStats) = model.ApplyWithState(p, s.ModelState, x, training: true, rng: key);
///         return (Losses.SoftmaxCrossEntropy((Tensor)logits, y), newStats);
///     }, hasAux: true)(s.Params!);
///     return (s.ApplyGradients(grads, stats), loss);
/// }, "train_step", donateArgnums: 0);</code>
/// </summary>
/// <param name="Step">Number of updates applied (int32 scalar).</param>
/// <param name="Params">The parameter tree.</param>
/// <param name="OptState">The optimizer's state (from <c>Tx.Init</c>).</param>
/// <param name="ModelState">The model's non-trained state (from <c>InitializeWithState</c>), or null.</param>
/// <param name="Tx">The optimizer (a static part of the tree).</param>
public sealed record TrainState(Tensor Step, object? Params, object? OptState, object? ModelState, GradientTransformation Tx)
{
    static TrainState()
    {
        // The optimizer is code, not data: a static leaf compared by reference.
        Tree.RegisterStatic<GradientTransformation>();
        Tree.Register<TrainState>(
            s => (new object?[] { s.Step, s.Params, s.OptState, s.ModelState, s.Tx }, new[] { "step", "params", "opt_state", "model_state", "tx" }),
            c => new TrainState(
                c[0] as Tensor ?? throw new ArgumentException("TrainState: step must be a tensor"), c[1], c[2], c[3],
                c[4] as GradientTransformation ?? throw new ArgumentException("TrainState: tx must be a GradientTransformation")));
        // What train steps return, so tree Jit can rebuild it without a registration by the user.
        Tree.RegisterTuple<TrainState, Tensor>();
        Tree.RegisterTuple<TrainState, Tensor, Tensor>();
        Tree.RegisterTuple<TrainState, Tensor, Tensor, Tensor>();
        Tree.RegisterTuple<TrainState, Dictionary<string, Tensor>>();
        Tree.RegisterTuple<TrainState, object>();
    }

    /// <summary>
    /// A state at step 0: <paramref name="tx"/>'s initial state for <paramref name="parameters"/>
    /// (Flax's <c>TrainState.create</c>) and the model state, if any.
    /// </summary>
    public static TrainState Create(object? parameters, GradientTransformation tx, object? modelState = null)
    {
        ArgumentNullException.ThrowIfNull(tx);
        return new TrainState(Tensor.Scalar(0, DType.Int32), parameters, tx.Init(parameters), modelState, tx);
    }

    /// <summary>
    /// One optimizer update (Flax's <c>apply_gradients</c>): <c>Tx.Update(grads, OptState, Params)</c>,
    /// the updates added to the parameters, <see cref="Step"/> + 1; the model state is kept.
    /// </summary>
    public TrainState ApplyGradients(object? grads)
    {
        var (updates, newOptState) = Tx.Update(grads, OptState, Params);
        return this with { Step = Step + 1, Params = Optax.ApplyUpdates(Params, updates), OptState = newOptState };
    }

    /// <summary>Like <see cref="ApplyGradients(object?)"/>, also replacing the model state (e.g. BatchNorm's new averages).</summary>
    public TrainState ApplyGradients(object? grads, object? newModelState) => ApplyGradients(grads) with { ModelState = newModelState };
}
