namespace Stax.Distributed;

/// <summary>
/// How a tensor's flattened (row-major) elements are split over the ranks of an axis: rank r owns
/// the contiguous range <c>[size·r/n, size·(r+1)/n)</c> (integer division), so shard sizes differ
/// by at most one element and a size not divisible by n needs no padding.
/// </summary>
public static class ShardLayout
{
    /// <summary>The first element and the number of elements rank <paramref name="rank"/> of
    /// <paramref name="ranks"/> owns of a tensor of <paramref name="size"/> elements.</summary>
    public static (int Start, int Count) Range(long size, int ranks, int rank)
    {
        if (ranks < 1 || rank < 0 || rank >= ranks)
            throw new ArgumentOutOfRangeException(nameof(rank), $"ShardLayout: rank {rank} is not one of 0..{ranks - 1}");
        if (size < 0 || size > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(size),
                $"ShardLayout: {size} elements (at most {int.MaxValue} per tensor)");
        long start = size * rank / ranks, end = size * (rank + 1) / ranks;
        return ((int)start, (int)(end - start));
    }

    /// <summary>Every rank's element count (rank order) for a tensor of <paramref name="size"/> elements.</summary>
    public static int[] Counts(long size, int ranks) =>
        Enumerable.Range(0, ranks).Select(r => Range(size, ranks, r).Count).ToArray();
}
