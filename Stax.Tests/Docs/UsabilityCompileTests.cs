using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Stax.Tests.Docs;

/// <summary>Code a user writes with the README's usings compiles (names do not collide, inference works).</summary>
public class UsabilityCompileTests
{
    static IReadOnlyList<string> Errors(string code)
    {
        var options = ScriptOptions.Default
            .AddReferences(typeof(Tensor).Assembly)
            .AddImports("System", "System.Linq", "System.Collections.Generic");
        var diagnostics = CSharpScript.Create(code, options).Compile();
        return diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToArray();
    }

    static void Compiles(string code)
    {
        var errors = Errors(code);
        Assert.True(errors.Count == 0, string.Join("\n", errors) + "\n---\n" + code);
    }

    [Fact]
    public void NnAndOptimTogetherHaveNoAmbiguousNames()
        => Compiles("""
            using Stax;
            using Stax.Nn;
            using Stax.Optim;
            LeafApply apply = (p, x, rng, ctx) => x;
            LeafModuleInit init = (input, key) => (new object?[0], null);
            LeafInit optInit = x0 => x0;
            var m = Module.Leaf("Id", init, apply);
            """);

    [Fact]
    public void CheckpointSaveCompilesWithUsingStaticTransforms()
        => Compiles("""
            using Stax;
            using Stax.IO;
            using static Stax.Transforms;
            var path = System.IO.Path.GetTempFileName();
            Checkpoint.Save(path, new Dictionary<string, object?> { ["w"] = Tensor.Scalar(1) });
            var g = Grad((Tensor x) => x * x);
            var r = Remat((Tensor x) => Lax.Sin(x));
            """);

    [Fact]
    public void GradOfAMethodGroupNeedsNoTypeArguments()
        => Compiles("""
            using Stax;
            using static Stax.Transforms;
            static Tensor Square(Tensor x) => Np.Sum(x * x);
            static Tensor Loss(Dictionary<string, Tensor> p) => Np.Sum(p["w"] * p["w"]);
            static Tensor Loss2(object p, Tensor batch) => Np.Sum(((Dictionary<string, Tensor>)p)["w"] * batch);
            var g1 = Grad(Square);
            var g2 = Grad(Loss);
            var g3 = Grad(Loss2);
            var v2 = ValueAndGrad(Loss);
            """);
}

/// <summary>The small usability fixes at run time: method-group gradients, keys as transformation arguments.</summary>
public class UsabilityTests
{
    static Tensor NamedLoss(Dictionary<string, Tensor> p) => Np.Sum(p["w"] * p["w"]);
    static Tensor BatchLoss(object p, Tensor batch) => Np.Sum(((Dictionary<string, Tensor>)p)["w"] * batch);

    [Fact]
    public void GradOfAMethodGroupComputesTheGradient()
    {
        var w = Tensor.FromArray(new float[] { 1, -2, 3 });
        var p = new Dictionary<string, Tensor> { ["w"] = w };
        Assert.Equal(new double[] { 2, -4, 6 }, Transforms.Grad(NamedLoss)(p)["w"].ToDoubleArray());    // d/dw sum(w²) = 2w
        var batch = Tensor.FromArray(new float[] { 5, 6, 7 });
        var g = (Dictionary<string, Tensor>)Transforms.Grad(BatchLoss)(p, batch);
        Assert.Equal(batch.ToDoubleArray(), g["w"].ToDoubleArray());                                   // d/dw sum(w·b) = b
        Assert.Equal(14.0, Transforms.ValueAndGrad(NamedLoss)(p).Value.ToDoubleArray()[0]);
    }

    [Fact]
    public void KeysAreVmapAndJitArguments()
    {
        var keys = Rng.Split(Rng.Key(0), new Shape(4));
        var mapped = Transforms.Vmap((Key k) => Rng.Normal(k, new[] { 3 }))(keys);
        Assert.Equal(new Shape(4, 3), mapped.Shape);
        for (int i = 0; i < 4; i++) Assert.Equal(Rng.Normal(keys[i], new[] { 3 }).ToDoubleArray(), mapped[i].ToDoubleArray());
        var (draw, info) = Transforms.JitWithInfo((Key k) => Rng.Uniform(k, new[] { 2 }));
        Assert.Equal(Rng.Uniform(Rng.Key(1), new[] { 2 }).ToDoubleArray(), draw(Rng.Key(1)).ToDoubleArray());
        Assert.Equal(Rng.Uniform(Rng.Key(2), new[] { 2 }).ToDoubleArray(), draw(Rng.Key(2)).ToDoubleArray());
        Assert.Equal(1, info.TraceCount);
        var split = Transforms.Jit((Key k) => k.Split(2))(Rng.Key(3));                    // keys out, too
        Assert.Equal(Rng.Split(Rng.Key(3), 2)[1].Data.ToDoubleArray(), split[1].Data.ToDoubleArray());
    }
}
