using Stax.Tests.Infrastructure;
using static Stax.Transforms;

namespace Stax.Tests.Transformations;

public class TransformTests
{
    static Tensor F64(params double[] v) => Tensor.FromArray(v);
    static double D(Tensor t) => t.ToDoubleArray()[0];

    [Fact]
    public void JvpOfSinIsCos()
    {
        var x = F64(0.3, -1.2, 2.0);
        var (y, t) = Jvp(Lax.Sin, x, F64(1, 2, 3));
        Check.Close(new[] { Math.Sin(0.3), Math.Sin(-1.2), Math.Sin(2.0) }, y.ToDoubleArray(), 1e-15);
        Check.Close(new[] { Math.Cos(0.3), 2 * Math.Cos(-1.2), 3 * Math.Cos(2.0) }, t.ToDoubleArray(), 1e-15);
    }

    [Fact]
    public void GradToThirdOrder()
    {
        Func<Tensor, Tensor> cube = x => x * x * x;
        var x = Tensor.Scalar(2.0, DType.Float64);
        Assert.Equal(12.0, D(Grad(cube)(x)));
        Assert.Equal(12.0, D(Grad(Grad(cube))(x)));
        Assert.Equal(6.0, D(Grad(Grad(Grad(cube)))(x)));
        Assert.Equal(Math.Cos(2.0), D(Grad(Lax.Sin)(x)), 15);
        Assert.Equal(-Math.Sin(2.0), D(Grad(Grad(Lax.Sin))(x)), 15);
    }

    [Fact]
    public void NoPerturbationConfusion()
    {
        // d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1
        var x = Tensor.Scalar(3.0, DType.Float64);
        Func<Tensor, Tensor> f = xv => xv * Grad(y => xv + y)(Tensor.Scalar(5.0, DType.Float64));
        Assert.Equal(1.0, D(Grad(f)(x)));
        // forward over forward: the inner derivative must not see the outer perturbation
        var (_, t) = Jvp(xv => xv * Jvp(y => xv + y, Tensor.Scalar(1.0, DType.Float64), Tensor.Scalar(1.0, DType.Float64)).Tangent,
            x, Tensor.Scalar(1.0, DType.Float64));
        Assert.Equal(1.0, D(t));
    }

    [Fact]
    public void ValueAndGradOfSeveralArguments()
    {
        var (v, g) = ValueAndGrad(xs => Np.Sum(xs[0] * xs[1]) + Np.Sum(Lax.Exp(xs[1])), 0, 1)(new[] { F64(1, 2), F64(3, 4) });
        Assert.Equal(1 * 3 + 2 * 4 + Math.Exp(3) + Math.Exp(4), D(v), 12);
        Assert.Equal(new[] { 3.0, 4 }, g[0].ToDoubleArray());
        Check.Close(new[] { 1 + Math.Exp(3), 2 + Math.Exp(4) }, g[1].ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void MakeJaxprPrintsAProgram()
    {
        var j = MakeJaxpr(x => Lax.Sin(x) * 2.0, Tensor.Zeros(new Shape(3)));
        var text = j.ToString();
        Assert.Contains("{ lambda ", text);
        Assert.Contains("a:f32[3]", text);
        Assert.Contains("= sin a", text);
        Assert.Contains("mul", text);
        Assert.Equal(new Shape(3), j.Jaxpr.OutAvals[0].Shape);
    }

    [Fact]
    public void VmapMatchesALoop()
    {
        var xs = TestData.Tensor(1, new[] { 3, 4 }, DType.Float64);
        Func<Tensor, Tensor> f = x => Lax.Sin(x) * Np.Sum(x * x);
        var batched = Vmap(f, inAxis: 1, outAxis: 0)(xs);
        Assert.Equal(new Shape(4, 3), batched.Shape);
        for (int j = 0; j < 4; j++)
            Check.Close(f(xs[.., j]).ToDoubleArray(), batched[j].ToDoubleArray(), 1e-15);
    }

    [Fact]
    public void VmapHasNoLoopFallback()
    {
        Func<Tensor[], Tensor[]> f = xs => Vmap(x => Lax.Exp(x) + 1.0)(xs[0]) is var y ? new[] { y } : null!;
        var small = MakeJaxpr(f, Tensor.Zeros(new Shape(1, 5))).Jaxpr.Eqns.Select(e => e.Primitive.Name);
        var large = MakeJaxpr(f, Tensor.Zeros(new Shape(1000, 5))).Jaxpr.Eqns.Select(e => e.Primitive.Name);
        Assert.Equal(small, large);
    }

    [Fact]
    public void PerExampleGradientsAndGradOfVmap()
    {
        var w = F64(0.5, -1.0);
        var xs = F64(1, 2, 3, 4, 5, 6).Reshape(3, 2);
        Func<Tensor, Tensor, Tensor> loss = (wv, x) => Np.Sum(Lax.Sin(wv * x));
        var perExample = Vmap(xsv => Grad(wv => loss(wv, xsv))(w))(xs);
        Assert.Equal(new Shape(3, 2), perExample.Shape);
        var total = Grad(wv => Np.Sum(Vmap(x => loss(wv, x))(xs)))(w);
        var expected = new double[2];
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 2; k++)
            {
                double x = xs.ToDoubleArray()[i * 2 + k], wk = k == 0 ? 0.5 : -1.0;
                Assert.Equal(x * Math.Cos(wk * x), perExample.ToDoubleArray()[i * 2 + k], 14);
                expected[k] += x * Math.Cos(wk * x);
            }
        Check.Close(expected, total.ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void JitCachesAndNeverRetracesOnAHit()
    {
        int traces = 0;
        var f = Jit(xs => { traces++; return new[] { Lax.Sin(xs[0]) * 2.0 }; });
        var a = F64(1, 2, 3);
        var r1 = f.Call(new[] { a })[0];
        var r2 = f.Call(new[] { F64(4, 5, 6) })[0];
        Assert.Equal(1, traces);
        Assert.Equal(1, f.TraceCount);
        Check.Close(new[] { 2 * Math.Sin(4), 2 * Math.Sin(5), 2 * Math.Sin(6) }, r2.ToDoubleArray(), 1e-15);
        f.Call(new[] { F64(1, 2) });
        Assert.Equal(2, traces);
        f.Call(new[] { Tensor.FromArray(new float[] { 1, 2, 3 }) });
        Assert.Equal(3, traces);
        f.Call(new[] { a });
        Assert.Equal(3, traces);
        Assert.Equal(2 * Math.Sin(1), r1.ToDoubleArray()[0], 15);
    }

    [Fact]
    public void JitComposesWithGradAndVmap()
    {
        var jf = Jit((Tensor x) => Lax.Sin(x) * x);
        var x = Tensor.Scalar(0.7, DType.Float64);
        Assert.Equal(Math.Cos(0.7) * 0.7 + Math.Sin(0.7), D(Grad(jf)(x)), 14);
        Assert.Equal(-Math.Sin(0.7) * 0.7 + 2 * Math.Cos(0.7), D(Grad(Grad(jf))(x)), 13);
        var xs = F64(0.1, 0.2, 0.3);
        var v = Vmap(Grad(jf))(xs);
        for (int i = 0; i < 3; i++) Assert.Equal(Math.Cos(xs.ToDoubleArray()[i]) * xs.ToDoubleArray()[i] + Math.Sin(xs.ToDoubleArray()[i]), v.ToDoubleArray()[i], 14);
        var jv = Jit(Vmap(jf))(xs);
        Check.Close(xs.ToDoubleArray().Select(t => Math.Sin(t) * t).ToArray(), jv.ToDoubleArray(), 1e-15);
        var text = MakeJaxpr(Grad(jf), x).ToString();
        Assert.Contains("jit", text);
    }

    [Fact]
    public void DonatedTensorsCannotBeReused()
    {
        var f = Jit(xs => new[] { xs[0] + 1.0 }, "step", 0);
        var a = F64(1, 2);
        var b = f.Call(new[] { a })[0];
        Assert.True(a.IsDonated);
        Check.Throws<InvalidOperationException>(() => a.ToDoubleArray(), "donated", "step");
        Assert.Equal(new[] { 2.0, 3.0 }, b.ToDoubleArray());
    }

    [Fact]
    public void StopGradientBlocksDerivatives()
    {
        var x = Tensor.Scalar(3.0, DType.Float64);
        Assert.Equal(3.0, D(Grad(v => v * StopGradient(v))(x)));
    }

    [Fact]
    public void TracedValuesInCSharpControlFlowGiveClearErrors()
    {
        var e = Check.Throws<InvalidOperationException>(() => Jit((Tensor x) => x > 0 ? x : -x)(F64(1)), "Jit", "Np.Where");
        Check.Throws<InvalidOperationException>(() => Jit((Tensor x) => Tensor.FromArray(x.ToArray<double>()))(F64(1)), "ToArray", "Jit");
        Tensor? leaked = null;
        Grad(v => { leaked = v; return v * v; })(Tensor.Scalar(1.0, DType.Float64));
        Check.Throws<InvalidOperationException>(() => Lax.Sin(leaked!), "escaped tracer");
    }

    [Fact]
    public void EvalShapeRunsNoKernel()
    {
        var backend = new ReferenceBackend();
        var captured = Tensor.FromBytes(new byte[12], new Shape(3), DType.Float32, backend);
        var outType = EvalShape(x => Lax.Exp(x) * captured + Np.Sum(x), new AbstractValue(new Shape(3), DType.Float32));
        Assert.Equal(new AbstractValue(new Shape(3), DType.Float32), outType);
        Assert.Equal(0, backend.KernelCalls);
    }

    [Fact]
    public void TwoThreadsTransformAtOnce()
    {
        var errors = new List<Exception>();
        var threads = Enumerable.Range(0, 2).Select(k => new Thread(() =>
        {
            try
            {
                for (int i = 0; i < 50; i++)
                {
                    var x = Tensor.Scalar(0.1 * (i + 1) + k, DType.Float64);
                    var g = Jit(Grad((Tensor v) => Lax.Sin(v) * v))(x);
                    double xv = 0.1 * (i + 1) + k;
                    Assert.Equal(Math.Cos(xv) * xv + Math.Sin(xv), D(g), 12);
                }
            }
            catch (Exception e) { lock (errors) errors.Add(e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);
    }
}
