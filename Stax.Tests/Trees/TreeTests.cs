using Stax.Tests.Infrastructure;

namespace Stax.Tests.Trees;

public record TreeLayer(Tensor W, Tensor B);
public record TreeModel(List<object?> Layers, string Name);
public sealed class UnregisteredTreeNode { }

public class TreeTests
{
    static Tensor T(params double[] v) => Tensor.FromArray(v);

    static TreeTests()
    {
        Tree.Register<TreeLayer>(l => (new object?[] { l.W, l.B }, new[] { "w", "b" }), c => new TreeLayer((Tensor)c[0]!, (Tensor)c[1]!));
        Tree.Register<TreeModel>(m => (new object?[] { m.Layers, m.Name }, new[] { "layers", "name" }),
            c => new TreeModel((List<object?>)c[0]!, (string)c[1]!));
    }

    /// <summary>Flattens, checks the leaves are exactly <paramref name="expected"/> (by reference, in order), rebuilds and checks the rebuilt tree flattens the same.</summary>
    static T RoundTrip<T>(T tree, params Tensor[] expected)
    {
        var (leaves, def) = Tree.Flatten(tree);
        Assert.Equal(expected.Length, leaves.Length);
        Assert.Equal(expected.Length, def.LeafCount);
        for (int i = 0; i < expected.Length; i++) Assert.Same(expected[i], leaves[i]);
        var back = Tree.Unflatten<T>(def, leaves);
        if (tree is not null) Assert.IsType(tree.GetType(), back);
        var (leaves2, def2) = Tree.Flatten(back);
        Assert.Equal(def, def2);
        Assert.Equal(def.GetHashCode(), def2.GetHashCode());
        for (int i = 0; i < expected.Length; i++) Assert.Same(expected[i], leaves2[i]);
        return back;
    }

    [Fact]
    public void RoundTripsEveryNodeKind()
    {
        Tensor a = T(1), b = T(2, 3), c = T(4, 5, 6);
        Assert.Same(a, RoundTrip(a, a));
        Assert.Null(RoundTrip<object?>(null));
        RoundTrip(new[] { a, b, c }, a, b, c);
        RoundTrip(new object?[] { a, null, b, 7 }, a, b);
        RoundTrip(new List<Tensor> { c, b }, c, b);
        RoundTrip(new List<object?> { a, "x", null, new[] { b } }, a, b);
        RoundTrip(new Dictionary<string, Tensor> { ["w"] = b, ["b"] = a }, a, b);
        RoundTrip(new Dictionary<string, object?> { ["z"] = a, ["y"] = new List<Tensor> { b } }, b, a);
        RoundTrip((a, b), a, b);
        RoundTrip((a, b, c), a, b, c);
        RoundTrip((a, b, c, a, b, c, a), a, b, c, a, b, c, a);
        RoundTrip(new[] { (a, b), (c, a) }, a, b, c, a);
        RoundTrip(new TreeLayer(a, b), a, b);
        RoundTrip(Array.Empty<Tensor>());
        RoundTrip(new Dictionary<string, Tensor>());
    }

    [Fact]
    public void RoundTripsDeepNesting()
    {
        Tensor a = T(1), b = T(2), c = T(3), d = T(4), e = T(5);
        Tree.RegisterTuple<Tensor[], Tensor>();
        Tree.RegisterDictionary<(Tensor[], Tensor)>();
        Tree.RegisterList<Dictionary<string, (Tensor[], Tensor)>>();
        // List of Dictionary of tuples of Tensor[] ...
        var tree = new List<Dictionary<string, (Tensor[], Tensor)>>
        {
            new() { ["q"] = (new[] { a, b }, c) },
            new() { ["p"] = (Array.Empty<Tensor>(), d), ["o"] = (new[] { e }, a) },
        };
        var back = RoundTrip(tree, a, b, c, e, a, d);
        Assert.Equal(2, back.Count);
        Assert.Equal(new[] { "o", "p" }, back[1].Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Same(e, back[1]["o"].Item1[0]);
        Assert.Equal("List[{\"q\": ([*, *], *)}, {\"o\": ([*], *), \"p\": ([], *)}]", Tree.Structure(tree).ToString());
    }

    [Fact]
    public void DictionaryKeysAreSortedOrdinally()
    {
        var d = new Dictionary<string, Tensor> { ["b"] = T(1), ["a"] = T(2), ["B"] = T(3), ["aa"] = T(4), [""] = T(5) };
        var leaves = Tree.Leaves(d);
        Assert.Equal(new[] { 5.0, 3, 2, 4, 1 }, leaves.Select(l => l.ToDoubleArray()[0]));
        Assert.Equal(new[] { "[\"\"]", "[\"B\"]", "[\"a\"]", "[\"aa\"]", "[\"b\"]" }, Tree.Paths(d).Select(p => p.ToString()));
        // Insertion order does not change the structure.
        var d2 = new Dictionary<string, Tensor> { [""] = T(0), ["aa"] = T(0), ["B"] = T(0), ["a"] = T(0), ["b"] = T(0) };
        Assert.Equal(Tree.Structure(d), Tree.Structure(d2));
    }

    [Fact]
    public void KeyPathsPrintInCSharpAccessorSyntax()
    {
        Tensor w = T(1), b = T(2);
        var model = new TreeModel(new List<object?> { new TreeLayer(w, b), null, new TreeLayer(w, b) }, "mlp");
        Assert.Equal(new[] { "layers[0].w", "layers[0].b", "layers[2].w", "layers[2].b" }, Tree.Paths(model).Select(p => p.ToString()));
        var tree = new Dictionary<string, object?> { ["enc"] = (w, b), ["dec"] = new object?[] { new TreeLayer(w, b) }, ["q\"x"] = w };
        Assert.Equal(new[] { "[\"dec\"][0].w", "[\"dec\"][0].b", "[\"enc\"][0]", "[\"enc\"][1]", "[\"q\\\"x\"]" },
            Tree.Paths(tree).Select(p => p.ToString()));
        Assert.Equal("", Tree.Paths(w)[0].ToString());
        var (withPaths, _) = Tree.FlattenWithPaths(tree);
        Assert.Same(w, withPaths[2].Leaf);
        Assert.Equal(new TreePath(new[] { TreeKey.Key("enc"), TreeKey.Index(0) }), withPaths[2].Path);
        Assert.Equal("TreeModel(layers=List[TreeLayer(w=*, b=*), null, TreeLayer(w=*, b=*)], name=\"mlp\")", Tree.Structure(model).ToString());
    }

    [Fact]
    public void TreeDefHasValueEquality()
    {
        var d1 = Tree.Structure(new Dictionary<string, object?> { ["a"] = T(1), ["b"] = new[] { T(1), T(2) }, ["n"] = 3 });
        var d2 = Tree.Structure(new Dictionary<string, object?> { ["b"] = new[] { T(7), T(8, 9) }, ["a"] = T(0), ["n"] = 3 });
        var d3 = Tree.Structure(new Dictionary<string, object?> { ["a"] = T(1), ["b"] = new[] { T(1), T(2) }, ["n"] = 4 });
        Assert.Equal(d1, d2);
        Assert.True(d1 == d2);
        Assert.Equal(d1.GetHashCode(), d2.GetHashCode());
        Assert.NotEqual(d1, d3);                                                          // static leaves are compared
        Assert.NotEqual(Tree.Structure(new[] { T(1) }), Tree.Structure(new List<Tensor> { T(1) }));
        Assert.NotEqual(Tree.Structure(new Tensor[] { T(1) }), Tree.Structure(new object[] { T(1) }));
        Assert.Equal("{\"a\": *, \"b\": [*, *], \"n\": 3}", d1.ToString());
        var set = new HashSet<TreeDef> { d1, d2, d3 };
        Assert.Equal(2, set.Count);
        Assert.Contains("d3 differs at", "d3 differs " + d1.Difference(d3));
        Assert.Contains("[\"n\"]", d1.Difference(d3));
        Assert.Null(d1.Difference(d2));
    }

    [Fact]
    public void StaticLeavesAreKeptAndNotMapped()
    {
        var tree = new List<object?> { T(1, 2), 3, "relu", 2.5, true, DType.Float64, new Shape(2, 3) };
        var (leaves, def) = Tree.Flatten(tree);
        Assert.Single(leaves);
        var doubled = Tree.Map(x => x * 2.0, tree);
        Assert.Equal(new[] { 2.0, 4 }, ((Tensor)doubled[0]!).ToDoubleArray());
        Assert.Equal(tree.Skip(1), doubled.Skip(1));
        Assert.Equal("List[*, 3, \"relu\", 2.5, true, Float64, (2, 3)]", def.ToString());
    }

    [Fact]
    public void MapAndMap2KeepStructure()
    {
        var p = new Dictionary<string, object?> { ["w"] = T(1, 2), ["layers"] = new List<object?> { new TreeLayer(T(3), T(4)) } };
        var g = new Dictionary<string, object?> { ["w"] = T(10, 20), ["layers"] = new List<object?> { new TreeLayer(T(30), T(40)) } };
        var upd = Tree.Map2((x, dx) => x - dx * 0.1, p, g);
        Assert.Equal(new[] { 0.0, 0 }, ((Tensor)upd["w"]!).ToDoubleArray().Select(v => Math.Round(v, 5)));
        var layer = (TreeLayer)((List<object?>)upd["layers"]!)[0]!;
        Assert.Equal(0.0, layer.B.ToDoubleArray()[0], 5);
        Assert.Equal(0.0, layer.W.ToDoubleArray()[0], 5);
        var withPath = Tree.MapWithPath((path, x) => path.ToString() == "[\"w\"]" ? x * 0.0 : x, p);
        Assert.Equal(new[] { 0.0, 0 }, ((Tensor)withPath["w"]!).ToDoubleArray());
        var sum3 = Tree.Map3((x, y, z) => x + y + z, (T(1), T(2)), (T(1), T(2)), (T(1), T(2)));
        Assert.Equal(6.0, sum3.Item2.ToDoubleArray()[0]);
    }

    [Fact]
    public void StructureMismatchNamesThePath()
    {
        Tensor w = T(1), b = T(2);
        var m1 = new TreeModel(new List<object?> { new TreeLayer(w, b), new TreeLayer(w, b) }, "m");
        var nullLeaf = new Dictionary<string, object?> { ["layers"] = new List<object?> { (w, b), new object?[] { w, null } } };
        var tensorLeaf = new Dictionary<string, object?> { ["layers"] = new List<object?> { (w, b), new object?[] { w, b } } };
        Check.Throws<ArgumentException>(() => Tree.Map2((x, y) => x + y, tensorLeaf, nullLeaf),
            "Tree.Map2", "at [\"layers\"][1][1]", "expected a tensor, got null");
        var otherKeys = new Dictionary<string, Tensor> { ["a"] = w, ["c"] = b };
        Check.Throws<ArgumentException>(() => Tree.Map2((x, y) => x + y, new Dictionary<string, Tensor> { ["a"] = w, ["b"] = b }, otherKeys),
            "Tree.Map2", "at the root", "[\"a\"], [\"b\"]", "[\"a\"], [\"c\"]");
        var m2 = new TreeModel(new List<object?> { new TreeLayer(w, b) }, "m");
        Check.Throws<ArgumentException>(() => Tree.Map2((x, y) => x + y, m1, m2), "at layers", "[0], [1]", "[0]");
        var m3 = new TreeModel(new List<object?> { new TreeLayer(w, b), new TreeLayer(w, b) }, "other");
        Check.Throws<ArgumentException>(() => Tree.Map2((x, y) => x + y, m1, m3), "at name", "\"m\"", "\"other\"");
        Check.Throws<ArgumentException>(() => Tree.Map2((x, y) => x + y, new object[] { w }, new object[] { new List<Tensor> { w } }),
            "at [0]", "expected a tensor, got List<Tensor>");
    }

    [Fact]
    public void UnsupportedTypesSayHowToRegister()
    {
        Check.Throws<ArgumentException>(() => Tree.Flatten(new List<object?> { new List<decimal>() }),
            "Tree.Flatten", "List<Decimal>", "at [0]", "Tree.RegisterList<Decimal>()");
        Check.Throws<ArgumentException>(() => Tree.Flatten(new Dictionary<string, List<Tensor>>()), "Tree.RegisterDictionary<List<Tensor>>()");
        Check.Throws<ArgumentException>(() => Tree.Flatten(new Dictionary<int, Tensor>()), "string keys");
        Check.Throws<ArgumentException>(() => Tree.Flatten((T(1), new List<Tensor>(), 3L)), "Tree.RegisterTuple<Tensor, List<Tensor>, long>()");
        Check.Throws<ArgumentException>(() => Tree.Flatten(new Dictionary<string, object?> { ["x"] = new UnregisteredTreeNode() }),
            "at [\"x\"]", "Tree.Register<UnregisteredTreeNode>(flatten, unflatten)", "RegisterStatic");
        Check.Throws<ArgumentException>(() => Tree.Flatten(new Tensor[1, 1]), "one-dimensional");
        Check.Throws<ArgumentException>(() => Tree.Register<Tensor>(t => (Array.Empty<object?>(), Array.Empty<string>()), c => T(0)), "leaf type");
    }

    [Fact]
    public void UnflattenChecksItsInputs()
    {
        var def = Tree.Structure(new[] { T(1), T(2) });
        Check.Throws<ArgumentException>(() => Tree.Unflatten(def, new[] { T(1) }), "Tree.Unflatten", "2 tensor leaves", "1 tensors");
        Check.Throws<ArgumentException>(() => Tree.Unflatten<List<Tensor>>(def, new[] { T(1), T(2) }), "Tree.Unflatten", "Tensor[]", "not a List<Tensor>");
        var listDef = Tree.Structure(new List<object?> { T(1) });
        Assert.IsType<List<object>>(Tree.Unflatten(listDef, new[] { T(3) }));
    }

    [Fact]
    public void RegisteredStaticTypeIsComparedByValue()
    {
        Tree.RegisterStatic<(string, int)>();
        var d1 = Tree.Structure(new object?[] { T(1), ("relu", 3) });
        var d2 = Tree.Structure(new object?[] { T(2), ("relu", 3) });
        var d3 = Tree.Structure(new object?[] { T(2), ("relu", 4) });
        Assert.Equal(d1, d2);
        Assert.NotEqual(d1, d3);
        Assert.Equal(1, d1.LeafCount);
    }

    [Fact]
    public void ShapeTreePrintsAvals()
    {
        var s = ShapeTree.Of(new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(new Shape(2, 3)), ["b"] = Tensor.Zeros(new Shape(3), DType.Float64) });
        Assert.Equal("{\"b\": f64[3], \"w\": f32[2,3]}", s.ToString());
        Assert.Equal(new Shape(2, 3), s["[\"w\"]"].Shape);
        Check.Throws<ArgumentException>(() => _ = s["[\"v\"]"], "ShapeTree", "[\"b\"], [\"w\"]");
    }
}
