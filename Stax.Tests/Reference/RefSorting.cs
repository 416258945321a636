namespace Stax.Tests.Reference;

public static partial class Ref
{
    static partial void RegisterSorting()
    {
        Rules[Prims.Sort] = (p, x, o) => RefSort((SortParams)p, x);
        Rules[Prims.TopK] = (p, x, o) => RefTopK(((TopKParams)p).K, x[0], o);
    }

    /// <summary>
    /// The sort order of jax's comparator, spelled out: every NaN is larger than everything else and
    /// equal to other NaNs; otherwise ordinary numeric comparison (so -0.0 equals +0.0).
    /// </summary>
    public static int CompareForSort(double a, double b)
    {
        bool na = double.IsNaN(a), nb = double.IsNaN(b);
        if (na && nb) return 0;
        if (na) return 1;
        if (nb) return -1;
        return a < b ? -1 : a > b ? 1 : 0;
    }

    static RefArray[] RefSort(SortParams p, RefArray[] x)
    {
        var shape = x[0].Shape;
        int dim = p.Dimension, n = shape[dim];
        var results = x.Select(a => a with { Data = (double[])a.Data.Clone() }).ToArray();
        // Each row: the positions along `dim` with all other coordinates fixed.
        var rowShape = shape.ToArray();
        rowShape[dim] = 1;
        long rows = rowShape.Aggregate(1L, (a, b) => a * b);
        for (long row = 0; row < rows; row++)
        {
            var idx = Unravel(row, rowShape);
            long At(int j) { var t = (int[])idx.Clone(); t[dim] = j; return Ravel(t, shape); }
            int Compare(int a, int b)
            {
                for (int k = 0; k < p.NumKeys; k++)
                {
                    int c = CompareForSort(x[k].Data[At(a)], x[k].Data[At(b)]);
                    if (c != 0) return c;
                }
                return 0;
            }
            // Stable insertion sort of positions.
            var perm = new List<int>();
            for (int j = 0; j < n; j++)
            {
                int pos = perm.Count;
                while (pos > 0 && Compare(perm[pos - 1], j) > 0) pos--;
                perm.Insert(pos, j);
            }
            for (int i = 0; i < x.Length; i++)
                for (int j = 0; j < n; j++)
                    results[i].Data[At(j)] = x[i].Data[At(perm[j])];
        }
        return results;
    }

    static RefArray[] RefTopK(int k, RefArray x, AbstractValue[] o)
    {
        var values = New(o[0]);
        var indices = New(o[1]);
        int n = x.Shape[^1];
        long rows = n == 0 ? 0 : x.Size / n;
        for (long row = 0; row < rows; row++)
        {
            var taken = new bool[n];
            for (int j = 0; j < k; j++)
            {
                // The largest remaining value; the first (lowest index) among equals.
                int best = -1;
                for (int i = 0; i < n; i++)
                    if (!taken[i] && (best < 0 || CompareForSort(x.Data[row * n + i], x.Data[row * n + best]) > 0))
                        best = i;
                taken[best] = true;
                values.Data[row * k + j] = x.Data[row * n + best];
                indices.Data[row * k + j] = best;
            }
        }
        return new[] { values, indices };
    }
}
