namespace Stax.Distributed;

/// <summary>
/// The state of a <see cref="ZeroRedundancyOptimizer"/> on one rank: the wrapped transformation's
/// state for this rank's shards of the parameters (1-D tensors of <see cref="ShardLayout"/>'s
/// lengths where the wrapped state has parameter-shaped tensors; scalars such as Adam's count as
/// they are). A registered tree node (<c>.inner</c>), so it lives in a jitted <c>TrainState</c>.
/// </summary>
/// <param name="Inner">The wrapped transformation's state over the parameter shards.</param>
public sealed record ZeroRedundancyState(object? Inner)
{
    static ZeroRedundancyState() => Tree.Register<ZeroRedundancyState>(
        s => (new[] { s.Inner }, new[] { "inner" }),
        c => new ZeroRedundancyState(c[0]));
}
