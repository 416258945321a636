using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.RandomTests;

/// <summary>Samplers under Jit, Vmap (over batches of keys) and Grad.</summary>
public class RandomTransformTests
{
    static Tensor[] Samplers(Tensor[] xs)
    {
        var key = new Key(xs[0]);
        var (k1, k2, k3, k4, k5, k6, k7, k8) = key;
        return new[]
        {
            Rng.Bits(k1, new[] { 5 }),
            Rng.Uniform(k2, new[] { 2, 3 }, DType.Float32, -1, 2),
            Rng.Normal(k3, new[] { 7 }),
            Rng.RandInt(k4, new[] { 6 }, 0, 10),
            Rng.Categorical(k5, Tensor.FromArray(new[] { 0f, 1f, 2f, 0.5f }, 4), shape: new Shape(3)),
            Rng.Permutation(k6, 9),
            Rng.Choice(k7, 20, new Shape(4), replace: false),
            Rng.TruncatedNormal(k8, -0.5, 1.5, new Shape(3)),
            Rng.Bernoulli(k8.FoldIn(1), 0.25, new Shape(6)),
            Rng.Choice(k8.FoldIn(2), 4, new Shape(5), p: Tensor.FromArray(new[] { 0.1f, 0.2f, 0.3f, 0.4f }, 4)),
        };
    }

    [Fact]
    public void JitMatchesEager()
    {
        var args = new[] { Rng.Key(77).Data };
        TransformCheck.JitMatchesEager(Samplers, args, "samplers");
        TransformCheck.EvalShapeMatches(Samplers, args);
        // Traced bounds take the tensor path of nextafter; it must agree with the host path.
        Func<Tensor[], Tensor[]> tn = xs => new[]
        {
            Rng.TruncatedNormal(new Key(xs[0]), xs[1], xs[2], new Shape(4, 3)),
            Rng.TruncatedNormal(new Key(xs[0]), Lax.ConvertElementType(xs[1], DType.Float64), Lax.ConvertElementType(xs[2], DType.Float64), new Shape(4, 3), DType.Float64),
        };
        TransformCheck.JitMatchesEager(tn, new[] { args[0], Tensor.FromArray(new[] { -2f, 0f, 0.25f }, 3), Tensor.FromArray(new[] { -1f, 1e-3f, 0.5f }, 3) }, "truncated_normal with traced bounds");
        // A jitted sampler called with different keys gives each key's numbers (no stale constants).
        var jitted = Jit((Func<Tensor[], Tensor[]>)(xs => new[] { Rng.Normal(new Key(xs[0]), new[] { 4 }) }));
        foreach (var seed in new[] { 1, 2 })
            Assert.Equal(Rng.Normal(Rng.Key(seed), new[] { 4 }).ToBytes(), jitted.Call(new[] { Rng.Key(seed).Data })[0].ToBytes());
    }

    [Fact]
    public void VmapOverKeysEqualsALoop()
    {
        var keys = Rng.Split(Rng.Key(78), new Shape(3));
        TransformCheck.Vmap(Samplers, new[] { keys.Data }, new int?[] { 0 }, name: "samplers over a batch of keys");
        TransformCheck.Vmap(Samplers, new[] { Np.Transpose(keys.Data) }, new int?[] { 1 }, name: "samplers over keys stored along the last axis");
        // The Key-accepting helper.
        var normals = Rng.Vmap(k => Rng.Normal(k, new[] { 4 }))(keys);
        Assert.Equal(new Shape(3, 4), normals.Shape);
        for (int b = 0; b < 3; b++)
            Assert.Equal(Rng.Normal(keys[b], new[] { 4 }).ToArray<float>(), normals.ToArray<float>()[(4 * b)..(4 * b + 4)]);
        // Vmap of a sampler with a mapped float parameter and an unmapped key.
        Func<Tensor[], Tensor[]> scaled = xs => new[] { Np.Multiply(xs[1], Rng.Uniform(new Key(xs[0]), new[] { 3 })), Rng.Bernoulli(new Key(xs[0]), xs[1]) };
        TransformCheck.Vmap(scaled, new[] { Rng.Key(5).Data, Tensor.FromArray(new[] { 0.1f, 0.5f, 0.9f }, 3) }, new int?[] { null, 0 }, name: "unmapped key, mapped p");
    }

    [Fact]
    public void GradThroughRandomNumbers()
    {
        // Keys are integer inputs: they get zero tangents, and the float parts differentiate as usual.
        var x = TestData.Tensor(3, new[] { 4 }, DType.Float64, -1, 1);
        var key = Rng.Key(79).Data;
        Func<Tensor[], Tensor[]> f = xs =>
        {
            var (k1, k2) = new Key(xs[1]);
            var noise = Rng.Normal(k1, new[] { 4 }, DType.Float64);
            var u = Rng.Uniform(k2, new[] { 4 }, DType.Float64, Np.Multiply(xs[0], 0.1), 2.0);
            return new[] { Np.Add(Np.Multiply(Np.Sin(xs[0]), noise), u) };
        };
        TransformCheck.Grads(f, new[] { x, key }, order: 2, name: "sin(x) * normal + uniform(minval=x/10)");
        var g = Grad(xs => Np.Sum(Np.Multiply(xs[0], Rng.Normal(new Key(xs[1]), new[] { 4 }, DType.Float64))), 0)(new[] { x, key })[0];
        Assert.Equal(Rng.Normal(new Key(key), new[] { 4 }, DType.Float64).ToDoubleArray(), g.ToDoubleArray());
        // Truncated normal is differentiable in its bounds (through the uniform's range).
        Func<Tensor[], Tensor[]> t = xs => new[] { Rng.TruncatedNormal(new Key(xs[1]), xs[0], Np.Add(xs[0], 3.0), null, DType.Float64) };
        TransformCheck.Grads(t, new[] { TestData.Tensor(4, new[] { 3 }, DType.Float64, -1, 0), key }, order: 1, tol: 1e-5, name: "truncated_normal in its bounds");
    }
}
