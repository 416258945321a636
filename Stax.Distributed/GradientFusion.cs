namespace Stax.Distributed;

/// <summary>
/// Tensor fusion (as Horovod does it): the collective of a whole tree of tensors as a few
/// collectives of large buffers. Leaves are grouped by dtype, in tree order, flattened and
/// grouped into buckets of at most <c>bucketBytes</c> (a larger leaf gets a bucket of its own), and
/// each bucket is reduced by one collective. Over a process axis a bucket is one
/// <see cref="FusedPsum"/> equation (the MPI axis reduces every leaf's buffer in place of a
/// concatenated copy, after one agreement check); under a Vmap of that name the leaves are
/// flattened, concatenated, reduced once and cut back into their shapes. Either way it works
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
        if (bucketBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(bucketBytes),
                $"GradientFusion: bucket size must be positive, got {bucketBytes}");
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
        bool vmapped = FusedPsum.BoundByVmap(axisName);
        int n = mean ? Transforms.AxisSize(axisName) : 1;
        foreach (var bucket in Buckets(leaves.Select(l => l.Aval).ToArray(), bucketBytes))
        {
            if (!vmapped)
            {
                // Over a process axis: one psum_fused per bucket, no packing copies (the axis
                // reduces each leaf's buffer into its output's). The mean is Pmean's: integers
                // become float32 first, then the sum is divided by the axis size, which the CPU
                // backend fuses into the optimizer's elementwise pass over each leaf.
                var operands = bucket.Select(i => mean && !leaves[i].DType.IsFloat()
                        ? Lax.ConvertElementType(leaves[i], DType.Float32, leaves[i].IsWeak)
                        : leaves[i])
                    .ToArray();
                var sums = FusedPsum.Bind(operands, axisName);
                for (int j = 0; j < bucket.Length; j++)
                    outs[bucket[j]] = mean ? Lax.Div(sums[j], Np.FullLike(sums[j], n)) : sums[j];
                continue;
            }
            // Under a Vmap of that name: one flat buffer per bucket, reduced by the Vmap.
            var flat = bucket.Length == 1
                ? leaves[bucket[0]].Reshape(-1)
                : Np.Concatenate(bucket.Select(i => leaves[i].Reshape(-1)).ToArray());
            var r = mean ? Transforms.Pmean(flat, axisName) : Transforms.Psum(flat, axisName);
            int offset = 0;
            foreach (var i in bucket)
            {
                int size = checked((int)leaves[i].Shape.Size);
                var piece = bucket.Length == 1 ? r : Lax.SliceInDim(r, offset, offset + size);
                outs[i] = piece.Reshape(leaves[i].Shape.ToArray());
                offset += size;
            }
        }
        return Tree.Unflatten<T>(def, outs);
    }
}
