namespace Stax;

public static partial class Np
{
    /// <summary>
    /// <c>numpy.matmul</c> (the <c>@</c> operator): matrix products over the last two dimensions with
    /// broadcast batch dimensions; a 1-D first operand is treated as a row vector and a 1-D second
    /// operand as a column vector, and the added dimension is removed from the result. Operands are
    /// promoted to a common dtype.
    /// </summary>
    public static Tensor Matmul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0)
            throw new ArgumentException($"matmul: operands must be at least 1-D, got shapes {a.Shape} and {b.Shape} (use Np.Multiply for scalars)");
        var p = Promote(a, b);
        a = p[0]; b = p[1];
        bool aVec = a.Rank == 1, bVec = b.Rank == 1;
        var origA = a.Shape; var origB = b.Shape;
        if (aVec) a = Lax.Reshape(a, new Shape(1, a.Shape[0]));
        if (bVec) b = Lax.Reshape(b, new Shape(b.Shape[0], 1));
        if (a.Shape[-1] != b.Shape[-2])
            throw new ArgumentException($"matmul: contracting dimensions differ: shapes {origA} and {origB} (size {a.Shape[-1]} vs {b.Shape[-2]})");
        Tensor r;
        if (b.Rank == 2)
            r = Lax.DotGeneral(a, b, new[] { a.Rank - 1 }, new[] { 0 });
        else
        {
            var batch = BroadcastShapes("matmul", new Shape(a.Shape.ToArray()[..^2]), new Shape(b.Shape.ToArray()[..^2]));
            int nb = batch.Rank;
            a = BroadcastTo(a, new Shape(batch.ToArray().Concat(a.Shape.ToArray()[^2..]).ToArray()));
            b = BroadcastTo(b, new Shape(batch.ToArray().Concat(b.Shape.ToArray()[^2..]).ToArray()));
            var bd = Enumerable.Range(0, nb).ToArray();
            r = Lax.DotGeneral(a, b, new[] { nb + 1 }, new[] { nb }, bd, bd);
        }
        if (aVec || bVec)
        {
            var dims = r.Shape.ToArray().ToList();
            if (bVec) dims.RemoveAt(dims.Count - 1);
            if (aVec) dims.RemoveAt(dims.Count - 1 - (bVec ? 0 : 1));
            r = Lax.Reshape(r, new Shape(dims.ToArray()));
        }
        return r;
    }

    /// <summary>
    /// <c>numpy.dot</c>: scalars multiply; 1-D·1-D is the inner product; N-D·1-D contracts the last
    /// axis of <paramref name="a"/>; N-D·M-D contracts the last axis of <paramref name="a"/> with the
    /// second-to-last of <paramref name="b"/> (result shape a[:-1] + b[:-2] + b[-1:]).
    /// </summary>
    public static Tensor Dot(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) return Multiply(a, b);
        var p = Promote(a, b);
        a = p[0]; b = p[1];
        int bAxis = b.Rank == 1 ? 0 : b.Rank - 2;
        if (a.Shape[-1] != b.Shape[bAxis])
            throw new ArgumentException($"dot: shapes {a.Shape} and {b.Shape} not aligned: {a.Shape[-1]} (dim {a.Rank - 1}) != {b.Shape[bAxis]} (dim {bAxis})");
        return Lax.DotGeneral(a, b, new[] { a.Rank - 1 }, new[] { bAxis });
    }

    /// <summary><c>numpy.vdot</c>: the inner product of the flattened operands (real dtypes only).</summary>
    public static Tensor Vdot(Tensor a, Tensor b)
    {
        if (a.Size != b.Size)
            throw new ArgumentException($"vdot: operands must have the same number of elements, got shapes {a.Shape} and {b.Shape}");
        var p = Promote(a, b);
        return Lax.DotGeneral(Ravel(p[0]), Ravel(p[1]), new[] { 0 }, new[] { 0 });
    }

    /// <summary><c>numpy.inner</c>: contracts the last axes of both operands (result a[:-1] + b[:-1]).</summary>
    public static Tensor Inner(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) return Multiply(a, b);
        if (a.Shape[-1] != b.Shape[-1])
            throw new ArgumentException($"inner: last dimensions must match, got shapes {a.Shape} and {b.Shape}");
        var p = Promote(a, b);
        return Lax.DotGeneral(p[0], p[1], new[] { a.Rank - 1 }, new[] { b.Rank - 1 });
    }

    /// <summary><c>numpy.outer</c>: the outer product of the flattened operands, shape (a.size, b.size).</summary>
    public static Tensor Outer(Tensor a, Tensor b)
    {
        var p = Promote(a, b);
        return Lax.DotGeneral(Ravel(p[0]), Ravel(p[1]), Array.Empty<int>(), Array.Empty<int>());
    }

    /// <summary>
    /// <c>numpy.einsum</c> for one or two operands, explicit ("ij,jk->ik") or implicit ("ij,jk") form.
    /// Letters shared by both operands and kept in the output are batch dimensions, shared letters
    /// not in the output are contracted, and a letter of one operand that is absent from the output
    /// is summed (by contraction with ones). Everything lowers to <c>dot_general</c> and reshape.
    /// Any output order is allowed (a transpose follows the contraction).
    /// <para>Limitations: no ellipsis, no repeated letter within one operand (diagonals), at most two
    /// operands. These throw <see cref="NotSupportedException"/>.</para>
    /// </summary>
    public static Tensor Einsum(string subscripts, params Tensor[] operands)
    {
        const string op = "einsum";
        var s = subscripts.Replace(" ", "");
        if (s.Contains("..."))
            throw new NotSupportedException($"{op}: ellipsis ('...') in '{subscripts}' is not supported");
        string[] parts = s.Split("->");
        if (parts.Length > 2) throw new ArgumentException($"{op}: '{subscripts}' has more than one '->'");
        var ins = parts[0].Split(',');
        if (ins.Length != operands.Length)
            throw new ArgumentException($"{op}: '{subscripts}' names {ins.Length} operands, got {operands.Length}");
        if (ins.Length is < 1 or > 2)
            throw new NotSupportedException($"{op}: only one or two operands are supported, got {ins.Length}");
        for (int i = 0; i < ins.Length; i++)
        {
            if (ins[i].Any(c => !char.IsLetter(c)))
                throw new ArgumentException($"{op}: subscripts '{ins[i]}' must be letters");
            if (ins[i].Length != operands[i].Rank)
                throw new ArgumentException($"{op}: subscripts '{ins[i]}' name {ins[i].Length} dimensions but operand {i} has shape {operands[i].Shape}");
            if (ins[i].Distinct().Count() != ins[i].Length)
                throw new NotSupportedException($"{op}: repeated subscript in '{ins[i]}' (diagonals) is not supported");
        }
        var all = string.Concat(ins);
        string output = parts.Length == 2 ? parts[1]
            : new string(all.Where(c => all.Count(x => x == c) == 1).OrderBy(c => c).ToArray());
        if (output.Distinct().Count() != output.Length || output.Any(c => !all.Contains(c)))
            throw new ArgumentException($"{op}: output subscripts '{output}' must be distinct letters that appear in the inputs");
        var sizes = new Dictionary<char, int>();
        for (int i = 0; i < ins.Length; i++)
            for (int d = 0; d < ins[i].Length; d++)
            {
                char c = ins[i][d];
                int n = operands[i].Shape[d];
                if (sizes.TryGetValue(c, out int prev) && prev != n)
                    throw new ArgumentException($"{op}: subscript '{c}' has size {prev} and {n} (operand shapes {string.Join(", ", operands.Select(o => o.Shape.ToString()))})");
                sizes[c] = n;
            }

        // Sum away letters that only one operand has and the output drops.
        var xs = operands.ToArray();
        var subs = ins.ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            string other = xs.Length == 2 ? subs[1 - i] : "";
            for (int d = subs[i].Length - 1; d >= 0; d--)
            {
                char c = subs[i][d];
                if (output.Contains(c) || other.Contains(c)) continue;
                xs[i] = Lax.ReduceSum(xs[i], d);
                subs[i] = subs[i].Remove(d, 1);
            }
        }
        if (xs.Length == 1) return ToOrder(xs[0], subs[0], output);
        xs = Promote(xs[0], xs[1]);
        string l = subs[0], r = subs[1];
        var batch = output.Where(c => l.Contains(c) && r.Contains(c)).ToArray();
        var contract = l.Where(c => r.Contains(c) && !output.Contains(c)).ToArray();
        var lFree = l.Where(c => !r.Contains(c)).ToArray();
        var rFree = r.Where(c => !l.Contains(c)).ToArray();
        string Order(char[] first, char[] second) => new string(batch.Concat(first).Concat(second).ToArray());
        int[] Idx(string sub, IEnumerable<char> cs) => cs.Select(c => sub.IndexOf(c)).ToArray();
        if (Order(rFree, lFree) == output)
            return Lax.DotGeneral(xs[1], xs[0], Idx(r, contract), Idx(l, contract), Idx(r, batch), Idx(l, batch));
        var product = Lax.DotGeneral(xs[0], xs[1], Idx(l, contract), Idx(r, contract), Idx(l, batch), Idx(r, batch));
        return ToOrder(product, Order(lFree, rFree), output);
    }

    // Transposes a result whose dimensions are named by `have` into the order `want`.
    static Tensor ToOrder(Tensor x, string have, string want)
        => have == want ? x : Lax.Transpose(x, want.Select(c => have.IndexOf(c)).ToArray());
}
