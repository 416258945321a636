namespace Stax.Distributed;

/// <summary>
/// The state of a <see cref="ZeroRedundancyOptimizer"/> on one rank: the wrapped transformation's
/// state for this rank's shards of the parameters (1-D tensors of <see cref="ShardLayout"/>'s
/// lengths where the wrapped state has parameter-shaped tensors; scalars such as Adam's count as
/// they are), and this rank's shards of the parameters themselves, which the rank updates and
/// the ranks then all-gather. A registered tree node (<c>.inner</c>, <c>.params</c>), so it lives in
/// a jitted <c>TrainState</c>.
/// </summary>
/// <param name="Inner">The wrapped transformation's state over the parameter shards.</param>
/// <param name="Params">This rank's 1-D shards of the parameters (the parameter tree's structure).</param>
public sealed record ZeroRedundancyState(object? Inner, object? Params)
{
    static ZeroRedundancyState() => Tree.Register<ZeroRedundancyState>(
        s => (new[] { s.Inner, s.Params }, new[] { "inner", "params" }),
        c => new ZeroRedundancyState(c[0], c[1]));
}
