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
    /// <c>numpy.einsum</c> (as jnp.einsum computes it, jax/_src/numpy/einsum.py), explicit
    /// ("ij,jk->ik") or implicit ("ij,jk", the output is the letters used once, sorted) form, for
    /// any number of operands. A letter repeated within one operand takes its diagonal
    /// ("ii->i", and the trace "ii->"): the operand is masked with an identity pattern and summed,
    /// as JAX does. Letters of one operand that no other operand and not the output use are summed
    /// first; each pair of operands is then contracted with one <c>dot_general</c> (shared letters
    /// kept later are batch dimensions). Three or more operands are contracted a pair at a time in
    /// a greedy order (the pair whose result has the fewest elements first; ties go left to right),
    /// where JAX follows opt_einsum's path: the results agree up to rounding.
    /// <para>An ellipsis ('...') stands for the leading dimensions an operand has beyond its
    /// letters; they broadcast across operands (right-aligned, size 1 stretches) as in NumPy. Without
    /// '->' the output is the broadcast ellipsis dimensions followed by the letters used once, in
    /// alphabetical order.</para>
    /// </summary>
    public static Tensor Einsum(string subscripts, params Tensor[] operands)
    {
        const string op = "einsum";
        var s = subscripts.Replace(" ", "");
        if (s.Contains("...")) (s, operands) = EinsumExpandEllipsis(subscripts, s, operands);
        string[] parts = s.Split("->");
        if (parts.Length > 2) throw new ArgumentException($"{op}: '{subscripts}' has more than one '->'");
        var ins = parts[0].Split(',');
        if (ins.Length != operands.Length)
            throw new ArgumentException($"{op}: '{subscripts}' names {ins.Length} operands, got {operands.Length}");
        if (ins.Length < 1) throw new ArgumentException($"{op}: at least one operand is needed");
        for (int i = 0; i < ins.Length; i++)
        {
            if (ins[i].Any(c => !char.IsLetter(c)))
                throw new ArgumentException($"{op}: subscripts '{ins[i]}' must be letters");
            if (ins[i].Length != operands[i].Rank)
                throw new ArgumentException($"{op}: subscripts '{ins[i]}' name {ins[i].Length} dimensions but operand {i} has shape {operands[i].Shape}");
        }
        var all = string.Concat(ins);
        string output = parts.Length == 2 ? parts[1]
            : new string(all.Where(c => all.Count(x => x == c) == 1).Distinct().OrderBy(c => c).ToArray());
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

        var xs = Promote(operands).ToList();
        var names = ins.ToList();
        if (xs.Count == 1) return EinsumOne(xs[0], names[0], output);
        while (xs.Count > 1)
        {
            // Letters needed after contracting operands i and j: the output's and the other operands'.
            string Keep(int i, int j) => new string(output.Concat(names.Where((_, k) => k != i && k != j).SelectMany(n => n)).Distinct().ToArray());
            int bi = 0, bj = 1;
            double best = double.PositiveInfinity;
            for (int i = 0; i < xs.Count; i++)
                for (int j = i + 1; j < xs.Count; j++)
                {
                    var keep = Keep(i, j);
                    double size = names[i].Concat(names[j]).Distinct().Where(keep.Contains).Aggregate(1.0, (a, c) => a * sizes[c]);
                    if (size < best) { best = size; bi = i; bj = j; }
                }
            var k2 = Keep(bi, bj);
            string? result = xs.Count == 2 ? output : null;
            var (t, tn) = EinsumTwo(xs[bi], names[bi], xs[bj], names[bj], k2, result);
            xs.RemoveAt(bj); names.RemoveAt(bj);
            xs.RemoveAt(bi); names.RemoveAt(bi);
            xs.Add(t); names.Add(tn);
        }
        return ToOrder(xs[0], names[0], output);
    }

    // One operand: sum the letters used once and dropped, then each repeated letter's diagonal.
    static Tensor EinsumOne(Tensor x, string names, string result)
    {
        var counts = names.Distinct().ToDictionary(c => c, c => names.Count(d => d == c));
        var uniques = names.Where(c => counts[c] == 1 && !result.Contains(c)).ToArray();
        (x, names) = EinsumSumUniques(x, names, uniques);
        (x, names) = EinsumSumRepeats(x, names, counts, result);
        return ToOrder(x, names, result);
    }

    // Two operands (jax's _einsum, two-operand case): per operand, sum its own dropped letters and
    // diagonals, then one dot_general over the shared letters. `result` fixes the output order (the
    // last contraction); null keeps dot_general's order (batch, lhs free, rhs free).
    static (Tensor, string) EinsumTwo(Tensor lhs, string ln, Tensor rhs, string rn, string keep, string? result)
    {
        var contracted = ln.Concat(rn).Distinct().Where(c => !keep.Contains(c)).OrderBy(c => c).ToArray();
        var lc = ln.Distinct().ToDictionary(c => c, c => ln.Count(d => d == c));
        var rc = rn.Distinct().ToDictionary(c => c, c => rn.Count(d => d == c));
        (lhs, ln) = EinsumSumUniques(lhs, ln, contracted.Where(c => lc.GetValueOrDefault(c) == 1 && !rc.ContainsKey(c)).ToArray());
        (rhs, rn) = EinsumSumUniques(rhs, rn, contracted.Where(c => rc.GetValueOrDefault(c) == 1 && !lc.ContainsKey(c)).ToArray());
        (lhs, ln) = EinsumSumRepeats(lhs, ln, lc, keep + rn);
        (rhs, rn) = EinsumSumRepeats(rhs, rn, rc, keep + ln);
        string l = ln, r = rn;
        var contract = contracted.Where(c => l.Contains(c) && r.Contains(c)).ToArray();
        var batchSource = result ?? new string(l.Where(c => r.Contains(c) && keep.Contains(c)).ToArray());
        var batch = batchSource.Where(c => l.Contains(c) && r.Contains(c)).ToArray();
        var lFree = l.Where(c => !batch.Contains(c) && !contract.Contains(c)).ToArray();
        var rFree = r.Where(c => !batch.Contains(c) && !contract.Contains(c)).ToArray();
        int[] Idx(string sub, IEnumerable<char> cs) => cs.Select(c => sub.IndexOf(c)).ToArray();
        string rl = new string(batch.Concat(rFree).Concat(lFree).ToArray());
        if (result is not null && rl == result)   // jax tries (rhs, lhs) first: no transpose needed
            return (Lax.DotGeneral(rhs, lhs, Idx(r, contract), Idx(l, contract), Idx(r, batch), Idx(l, batch)), rl);
        var product = Lax.DotGeneral(lhs, rhs, Idx(l, contract), Idx(r, contract), Idx(l, batch), Idx(r, batch));
        string names = new string(batch.Concat(lFree).Concat(rFree).ToArray());
        return result is null ? (product, names) : (ToOrder(product, names, result), result);
    }

    static (Tensor, string) EinsumSumUniques(Tensor x, string names, char[] uniques)
    {
        if (uniques.Length == 0) return (x, names);
        x = Lax.ReduceSum(x, uniques.Select(c => names.IndexOf(c)).ToArray());
        return (x, new string(names.Where(c => !uniques.Contains(c)).ToArray()));
    }

    // jax's sum_repeats: for a letter used k > 1 times, keep the elements whose k indices are equal
    // (a select against an identity pattern, so other entries' NaN/inf never leak in) and sum the
    // copies away: all of them, or all but the last when the letter is kept.
    static (Tensor, string) EinsumSumRepeats(Tensor x, string names, Dictionary<char, int> counts, string keep)
    {
        foreach (var (c, count) in counts)
        {
            if (count < 2) continue;
            var axes = Enumerable.Range(0, names.Length).Where(i => names[i] == c).ToArray();
            Tensor? eye = null;
            var first = Lax.Iota(DType.Int32, x.Shape, axes[0]);
            foreach (var a in axes.Skip(1))
            {
                var eq = Lax.Eq(first, Lax.Iota(DType.Int32, x.Shape, a));
                eye = eye is null ? eq : Lax.And(eye, eq);
            }
            x = Lax.Select(eye!, x, ZerosLike(x));
            var sumAxes = keep.Contains(c) ? axes[..^1] : axes;
            x = Lax.ReduceSum(x, sumAxes);
            names = new string(names.Where((_, i) => !sumAxes.Contains(i)).ToArray());
        }
        return (x, names);
    }

    // Rewrites '...' into fresh letters: operand i's k ellipsis dimensions get the last k of the E
    // letters (E = the most any operand has), size-1 dimensions are broadcast to the others' size,
    // and an implicit output becomes '->' + the E letters + the letters used once, sorted.
    static (string, Tensor[]) EinsumExpandEllipsis(string subscripts, string s, Tensor[] operands)
    {
        const string op = "einsum";
        string[] parts = s.Split("->");
        if (parts.Length > 2) throw new ArgumentException($"{op}: '{subscripts}' has more than one '->'");
        var ins = parts[0].Split(',');
        if (ins.Length != operands.Length)
            throw new ArgumentException($"{op}: '{subscripts}' names {ins.Length} operands, got {operands.Length}");
        var used = new HashSet<char>(s.Where(char.IsLetter));
        var ellRank = new int[ins.Length];
        for (int i = 0; i < ins.Length; i++)
        {
            int at = ins[i].IndexOf("...", StringComparison.Ordinal);
            if (at < 0) continue;
            if (ins[i].IndexOf("...", at + 3, StringComparison.Ordinal) >= 0)
                throw new ArgumentException($"{op}: operand {i} subscripts '{ins[i]}' have more than one ellipsis");
            int letters = ins[i].Length - 3;
            ellRank[i] = operands[i].Rank - letters;
            if (ellRank[i] < 0)
                throw new ArgumentException($"{op}: subscripts '{ins[i]}' name {letters} dimensions but operand {i} has shape {operands[i].Shape}");
        }
        int e = ellRank.Max();
        var fresh = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".Where(c => !used.Contains(c)).Take(e).ToArray();
        if (fresh.Length < e) throw new ArgumentException($"{op}: '{subscripts}' uses too many letters to expand its ellipsis of {e} dimensions");
        // Broadcast size of every ellipsis position (right-aligned).
        var size = Enumerable.Repeat(1, e).ToArray();
        for (int i = 0; i < ins.Length; i++)
            for (int d = 0; d < ellRank[i]; d++)
            {
                int pos = e - ellRank[i] + d, n = operands[i].Shape[ins[i].IndexOf("...", StringComparison.Ordinal) + d];
                if (n != 1 && size[pos] != 1 && size[pos] != n)
                    throw new ArgumentException($"{op}: the ellipsis dimensions of the operands do not broadcast (shapes {string.Join(", ", operands.Select(o => o.Shape.ToString()))})");
                if (n != 1) size[pos] = n;
            }
        var ops = operands.ToArray();
        for (int i = 0; i < ins.Length; i++)
        {
            int at = ins[i].IndexOf("...", StringComparison.Ordinal);
            if (at < 0) continue;
            var letters = new string(fresh[(e - ellRank[i])..]);
            var target = ops[i].Shape.ToArray();
            for (int d = 0; d < ellRank[i]; d++) target[at + d] = size[e - ellRank[i] + d];
            if (!target.SequenceEqual(ops[i].Shape.ToArray())) ops[i] = BroadcastTo(ops[i], new Shape(target));
            ins[i] = ins[i][..at] + letters + ins[i][(at + 3)..];
        }
        string output;
        if (parts.Length == 2)
        {
            output = parts[1].Replace("...", new string(fresh));
        }
        else
        {
            var all = string.Concat(parts[0].Split(',')).Replace("...", "");
            output = new string(fresh) + new string(all.Where(c => all.Count(x => x == c) == 1).Distinct().OrderBy(c => c).ToArray());
        }
        return (string.Join(",", ins) + "->" + output, ops);
    }

    // Transposes a result whose dimensions are named by `have` into the order `want`.
    static Tensor ToOrder(Tensor x, string have, string want)
        => have == want ? x : Lax.Transpose(x, want.Select(c => have.IndexOf(c)).ToArray());
}
