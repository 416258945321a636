using Stax.Tests.Infrastructure;

namespace Stax.Tests.Transformations;

/// <summary>Transformation rules of the elementwise and conversion primitives.</summary>
public class ElementwiseRuleTests
{
    // Domains keep finite differences away from kinks and singularities.
    public static IEnumerable<object[]> Unary() => new (string, double, double)[]
    {
        ("neg", -2, 2), ("exp", -2, 2), ("log", 0.5, 3), ("log1p", -0.5, 2), ("expm1", -2, 2), ("tanh", -2, 2),
        ("logistic", -3, 3), ("sqrt", 0.5, 3), ("rsqrt", 0.5, 3), ("abs", 0.2, 2), ("sin", -3, 3), ("cos", -3, 3),
        ("erf", -2, 2), ("erf_inv", -0.8, 0.8),
    }.Select(t => new object[] { t.Item1, t.Item2, t.Item3 });

    static Primitive ByName(string name) => (Primitive)typeof(Prims).GetFields().Select(f => f.GetValue(null)).OfType<Primitive>().First(p => p.Name == name);

    [Theory]
    [MemberData(nameof(Unary))]
    public void UnaryRules(string name, double lo, double hi)
    {
        var p = ByName(name);
        var x = TestData.Tensor(3, new[] { 2, 3 }, DType.Float64, lo, hi);
        Func<Tensor[], Tensor[]> f = xs => p.Bind(Params.None, xs);
        TransformCheck.Grads(f, new[] { x }, order: 2, name: name);
        TransformCheck.Vmap(f, new[] { x }, new int?[] { 1 }, name: name);
        TransformCheck.JitMatchesEager(f, new[] { TestData.Tensor(4, new[] { 5 }, DType.Float32, lo, hi) }, name);
        TransformCheck.EvalShapeMatches(f, new[] { x });
    }

    public static IEnumerable<object[]> Binary() => new[] { "add", "sub", "mul", "div", "pow", "max", "min", "atan2", "rem" }.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Binary))]
    public void BinaryRules(string name)
    {
        var p = ByName(name);
        var x = TestData.Tensor(5, new[] { 3, 2 }, DType.Float64, 0.5, 2);
        var y = TestData.Tensor(6, new[] { 3, 2 }, DType.Float64, 2.5, 4); // x < y: no ties, rem away from jumps
        Func<Tensor[], Tensor[]> f = xs => p.Bind(Params.None, xs);
        TransformCheck.Grads(f, new[] { x, y }, order: 2, name: name);
        TransformCheck.Vmap(f, new[] { x, y.T }, new int?[] { 0, 1 }, name: name);
        TransformCheck.Vmap(f, new[] { x, y[0] }, new int?[] { 0, null }, name: name);
        TransformCheck.JitMatchesEager(f, new[] { x, y }, name);
        TransformCheck.EvalShapeMatches(f, new[] { x, y });
    }

    [Fact]
    public void SelectConvertBroadcastReshapeReduceSum()
    {
        var x = TestData.Tensor(7, new[] { 2, 3 }, DType.Float64);
        var y = TestData.Tensor(8, new[] { 2, 3 }, DType.Float64);
        var pred = Tensor.FromArray(new[] { true, false, true, false, false, true }, 2, 3);
        var cases = new (string, Func<Tensor[], Tensor[]>)[]
        {
            ("select", xs => new[] { Lax.Select(pred, xs[0], xs[1]) }),
            ("convert", xs => new[] { Lax.ConvertElementType(Lax.ConvertElementType(xs[0], DType.Float32), DType.Float64) * xs[1] }),
            ("broadcast_in_dim", xs => new[] { Lax.BroadcastInDim(xs[0], new Shape(4, 2, 3), 1, 2) }),
            ("broadcast size-1", xs => new[] { Lax.BroadcastInDim(Lax.Reshape(xs[0], new Shape(6, 1)), new Shape(6, 4), 0, 1) }),
            ("reshape", xs => new[] { Lax.Reshape(xs[0], new Shape(3, 2)) * xs[1].Reshape(3, 2) }),
            ("reduce_sum", xs => new[] { Lax.ReduceSum(xs[0] * xs[1], 1), Lax.ReduceSum(xs[0], 0, 1) }),
        };
        foreach (var (name, f) in cases)
        {
            TransformCheck.Grads(f, new[] { x, y }, order: 2, eps: name == "convert" ? 1e-2 : 1e-6, tol: name == "convert" ? 1e-3 : 1e-6, name: name);
            var xb = TestData.Tensor(10, new[] { 2, 5, 3 }, DType.Float64);
            var yb = TestData.Tensor(11, new[] { 2, 3, 5 }, DType.Float64);
            TransformCheck.Vmap(f, new[] { xb, yb }, new int?[] { 1, 2 }, tol: 1e-14, name: name);
            TransformCheck.Vmap(f, new[] { x, TestData.Tensor(9, new[] { 4, 2, 3 }, DType.Float64) }, new int?[] { null, 0 }, tol: 1e-14, name: name);
            TransformCheck.JitMatchesEager(f, new[] { x, y }, name);
            TransformCheck.EvalShapeMatches(f, new[] { x, y });
        }
    }
}
