using Stax.Nn;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>Embedding (Flax's nn.Embed) with Attend, and DenseGeneral, against double references.</summary>
public class EmbeddingTests
{
    static Initializer Random(int seed) => (k, s, d) => Numerics.Tensor64(seed, s.ToArray());

    static (double Mean, double Std) Stats(double[] v)
    {
        double m = v.Average();
        return (m, Math.Sqrt(v.Select(x => (x - m) * (x - m)).Average()));
    }

    [Fact]
    public void TableHasFlaxNameShapeAndDefaultScale()
    {
        var embed = Embedding(400, 64);
        var (outSpec, p) = embed.Initialize(Rng.Key(0), new AbstractValue(new Shape(2, 3), DType.Int32));
        Assert.Equal(new AbstractValue(new Shape(2, 3, 64), DType.Float32), outSpec);
        var table = ((Dictionary<string, Tensor>)p)["embedding"];
        Assert.Equal(new Shape(400, 64), table.Shape);
        Assert.Equal(DType.Float32, table.DType);
        // Flax: variance_scaling(1, fan_in, normal, out_axis=0): fan_in is the width, std 1/8.
        var (mean, std) = Stats(table.ToDoubleArray());
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(std, 0.125 * 0.97, 0.125 * 1.03);
    }

    [Fact]
    public void LookupTakesRowsAsJnpTake()
    {
        var embed = Embedding(5, 3, embeddingInit: Random(1), paramDtype: DType.Float64);
        var ids = Tensor.FromArray(new[] { 0, 4, 2, -1, 5, 1 }, 2, 3);
        var (_, p) = embed.Initialize(Rng.Key(0), ids);
        var table = ((Dictionary<string, Tensor>)p)["embedding"].ToDoubleArray();
        var y = embed.Apply(p, ids, training: false);
        Assert.Equal(new Shape(2, 3, 3), y.Shape);
        var got = y.ToDoubleArray();
        int[] rows = { 0, 4, 2, 4, -1, 1 };                    // -1 counts from the end; 5 is out of range
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < 3; j++)
                if (rows[i] < 0) Assert.True(double.IsNaN(got[i * 3 + j]));
                else Assert.Equal(table[rows[i] * 3 + j], got[i * 3 + j]);
        Check.Throws<ArgumentException>(() => embed.Apply(p, Tensor.FromArray(new[] { 0.5 }), training: false), "Embedding", "integer ids");
    }

    [Fact]
    public void AttendIsTheTiedOutputProjectionWithGradients()
    {
        const int vocab = 5, width = 3;
        var embed = Embedding(vocab, width, embeddingInit: Random(2), paramDtype: DType.Float64);
        var ids = Tensor.FromArray(new[] { 1, 3, 3, 0 }, 2, 2);
        // Attend alone: queries against every row.
        var attendOnly = Module.Create((p, q) => embed.Attend(p, q), "AttendOnly");
        var q = Numerics.Tensor64(3, 2, width);
        var (_, pa) = attendOnly.Initialize(Rng.Key(0), q);
        LayerCheck.AgainstReference(attendOnly, q, pa, (xs, ps) =>
        {
            var t = ps["embedding"];
            var y = new double[2 * vocab];
            for (int i = 0; i < 2; i++)
                for (int v = 0; v < vocab; v++)
                    for (int j = 0; j < width; j++) y[i * vocab + v] += xs[i * width + j] * t[v * width + j];
            return y;
        });
        // Embed, a nonlinearity, and the same table as output: one parameter, gradients from both uses.
        var tied = Module.Create((p, x) => embed.Attend(p["embed"], Np.Tanh(embed.Call(p["embed"], x))), "Tied");
        var (_, pt) = tied.Initialize(Rng.Key(0), ids);
        var leaves = Tree.FlattenWithPaths(pt).Leaves;
        Assert.Single(leaves);
        Assert.Equal("[\"embed\"][\"embedding\"]", leaves[0].Path.ToString());
        var idv = ids.ToArray<int>();
        LayerCheck.AgainstReference(tied, ids, pt, (xs, ps) =>
        {
            var t = ps["embed/embedding"];
            var y = new double[idv.Length * vocab];
            for (int i = 0; i < idv.Length; i++)
                for (int v = 0; v < vocab; v++)
                    for (int j = 0; j < width; j++) y[i * vocab + v] += Math.Tanh(t[idv[i] * width + j]) * t[v * width + j];
            return y;
        }, differentiateInput: false);
    }

    [Fact]
    public void AttendFirstCreatesTheTableToo()
    {
        var embed = Embedding(7, 4);
        var m = Module.Create((p, x) => embed.Attend(p, x), "AttendFirst");
        var (o, p) = m.Initialize(Rng.Key(0), new AbstractValue(new Shape(3, 4), DType.Float32));
        Assert.Equal(new Shape(3, 7), o.Shape);
        Assert.Equal(new Shape(7, 4), ((Dictionary<string, Tensor>)p)["embedding"].Shape);
        Check.Throws<ArgumentException>(() => m.Initialize(Rng.Key(0), new AbstractValue(new Shape(3, 5), DType.Float32)), "AttendFirst", "width 4");
    }

    [Fact]
    public void DenseGeneralContractsAxesIntoFeatures()
    {
        // features (2, 3) on the last axis: kernel (4, 2, 3), bias (2, 3).
        var heads = DenseGeneral(new[] { 2, 3 }, kernelInit: Random(4), biasInit: Random(5), paramDtype: DType.Float64);
        var x = Numerics.Tensor64(6, 2, 5, 4);
        var (o, p) = heads.Initialize(Rng.Key(0), x);
        Assert.Equal(new Shape(2, 5, 2, 3), o.Shape);
        var d = (Dictionary<string, Tensor>)p;
        Assert.Equal(new Shape(4, 2, 3), d["kernel"].Shape);
        Assert.Equal(new Shape(2, 3), d["bias"].Shape);
        LayerCheck.AgainstReference(heads, x, p, (xs, ps) =>
        {
            var y = new double[10 * 6];
            for (int r = 0; r < 10; r++)
                for (int f = 0; f < 6; f++)
                {
                    double s = ps["bias"][f];
                    for (int i = 0; i < 4; i++) s += xs[r * 4 + i] * ps["kernel"][i * 6 + f];
                    y[r * 6 + f] = s;
                }
            return y;
        });
        // Axes (-2, -1) back to one feature axis: kernel (2, 3, 4).
        var merge = DenseGeneral(new[] { 4 }, new[] { -2, -1 }, kernelInit: Random(7), biasInit: Random(8), paramDtype: DType.Float64);
        var h = Numerics.Tensor64(9, 3, 2, 3);
        var (_, pm) = merge.Initialize(Rng.Key(0), h);
        Assert.Equal(new Shape(2, 3, 4), ((Dictionary<string, Tensor>)pm)["kernel"].Shape);
        LayerCheck.AgainstReference(merge, h, pm, (xs, ps) =>
        {
            var y = new double[3 * 4];
            for (int r = 0; r < 3; r++)
                for (int f = 0; f < 4; f++)
                {
                    double s = ps["bias"][f];
                    for (int i = 0; i < 6; i++) s += xs[r * 6 + i] * ps["kernel"][i * 4 + f];
                    y[r * 4 + f] = s;
                }
            return y;
        });
    }

    [Fact]
    public void DenseGeneralInitializesTheFlattenedMatrix()
    {
        // LeCun normal sees (256, 4·8): fan_in 256, std 1/16 (a 3-D kernel's fans would differ).
        var (_, p) = DenseGeneral(new[] { 4, 8 }).Initialize(Rng.Key(3), new AbstractValue(new Shape(2, 256), DType.Float32));
        var d = (Dictionary<string, Tensor>)p;
        var (mean, std) = Stats(d["kernel"].ToDoubleArray());
        Assert.InRange(mean, -0.003, 0.003);
        Assert.InRange(std, 0.0625 * 0.96, 0.0625 * 1.04);
        Assert.All(d["bias"].ToDoubleArray(), v => Assert.Equal(0.0, v));
    }
}
