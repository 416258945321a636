namespace Stax.Distributed;

/// <summary>
/// Tensor fusion (as Horovod does it): the collective of a whole tree of tensors as a few
/// collectives of large buffers. Leaves are grouped by dtype, in tree order, flattened and
/// concatenated into buckets of at most <c>bucketBytes</c> (a larger leaf gets a bucket of its
/// own), each bucket is reduced once, and the results are cut back into the leaves' shapes. The
/// packing is ordinary tensor operations, so it works over a Vmap axis as over a process axis,
/// eagerly, under Jit (the program then holds one collective per bucket) and under Grad.
/// </summary>
public static class GradientFusion
{
    /// <summary>The default bucket size: 64 MiB.</summary>
    public const long DefaultBucketBytes = 64L << 20;

    /// <summary><c>Transforms.Pmean</c> of every leaf, with the leaves packed into buckets.</summary>
    public static T Pmean<T>(T tree, string axisName, long bucketBytes = DefaultBucketBytes)
        => Fused(tree, axisName, bucketBytes, mean: true);

    /// <summary><c>Transforms.Psum</c> of every leaf, with the leaves packed into buckets.</summary>
    public static T Psum<T>(T tree, string axisName, long bucketBytes = DefaultBucketBytes)
        => Fused(tree, axisName, bucketBytes, mean: false);

    /// <summary>The buckets the leaves of this shape would be packed into: lists of leaf indices.</summary>
    public static IReadOnlyList<int[]> Buckets(IReadOnlyList<AbstractValue> leaves, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes <= 0) throw new ArgumentOutOfRangeException(nameof(bucketBytes), $"GradientFusion: bucket size must be positive, got {bucketBytes}");
        var buckets = new List<int[]>();
        foreach (var group in Enumerable.Range(0, leaves.Count).GroupBy(i => leaves[i].DType))
        {
            var cur = new List<int>();
            long bytes = 0;
            foreach (var i in group)
            {
                long b = leaves[i].Shape.Size * leaves[i].DType.SizeOf();
                if (cur.Count > 0 && bytes + b > bucketBytes) { buckets.Add(cur.ToArray()); cur.Clear(); bytes = 0; }
                cur.Add(i);
                bytes += b;
            }
            if (cur.Count > 0) buckets.Add(cur.ToArray());
        }
        return buckets;
    }

    static T Fused<T>(T tree, string axisName, long bucketBytes, bool mean)
    {
        var (leaves, def) = Tree.Flatten(tree);
        var outs = new Tensor[leaves.Length];
        foreach (var bucket in Buckets(leaves.Select(l => l.Aval).ToArray(), bucketBytes))
        {
            var flat = bucket.Length == 1 ? leaves[bucket[0]].Reshape(-1) : Np.Concatenate(bucket.Select(i => leaves[i].Reshape(-1)).ToArray());
            var r = mean ? Transforms.Pmean(flat, axisName) : Transforms.Psum(flat, axisName);
            int offset = 0;
            foreach (var i in bucket)
            {
                int n = checked((int)leaves[i].Shape.Size);
                var piece = bucket.Length == 1 ? r : Lax.SliceInDim(r, offset, offset + n);
                outs[i] = piece.Reshape(leaves[i].Shape.ToArray());
                offset += n;
            }
        }
        return Tree.Unflatten<T>(def, outs);
    }
}
