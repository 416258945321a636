namespace Stax.Nn;

/// <summary>Resolves a layer's axis arguments against an input shape.</summary>
internal static class LayerAxes
{
    /// <summary>
    /// <paramref name="axes"/> as non-negative axes of <paramref name="shape"/>, in the given order;
    /// an axis out of range or named twice is an error naming <paramref name="where"/>.
    /// </summary>
    public static int[] Resolve(int[] axes, Shape shape, string where)
    {
        var r = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i] < 0 ? axes[i] + shape.Rank : axes[i];
            if (a < 0 || a >= shape.Rank)
                throw new ArgumentException($"{where}: axis {axes[i]} is out of range for an input of shape {shape} (rank {shape.Rank})");
            r[i] = a;
        }
        if (r.Distinct().Count() != r.Length)
            throw new ArgumentException($"{where}: axes {Shape.Format(axes)} repeat a dimension of an input of rank {shape.Rank}");
        return r;
    }
}
