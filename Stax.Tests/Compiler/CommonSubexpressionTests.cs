using Stax.Compiler;
using Stax.Tracing;

namespace Stax.Tests.Compiler;

public class CommonSubexpressionTests
{
    static Jaxpr Program(Func<Tensor[], Tensor[]> f, params Tensor[] examples)
        => Transforms.MakeJaxpr(f, examples).Jaxpr;

    [Fact]
    public void RepeatedPureEquationsRunOnceAndGiveTheSameValues()
    {
        var x = Tensor.FromArray(new[] { 0.5f, -1.25f, 3f });
        var k = Tensor.Scalar(7, DType.Int32);
        // The same scalar converted per use, and the same product twice (as traced optimizer updates repeat them).
        Tensor[] F(Tensor[] a)
        {
            var c1 = Lax.ConvertElementType(a[1], DType.Float32);
            var c2 = Lax.ConvertElementType(a[1], DType.Float32);
            var y1 = Lax.Mul(a[0], Lax.BroadcastInDim(c1, a[0].Shape));
            var y2 = Lax.Mul(a[0], Lax.BroadcastInDim(c2, a[0].Shape));
            return new[] { Lax.Add(y1, y2) };
        }
        var program = Program(F, x, k);
        var reduced = CommonSubexpressions.Run(program);
        Assert.Equal(program.Eqns.Length - 3, reduced.Eqns.Length);
        var want = JaxprEval.Eval(program, Array.Empty<Tensor>(), new[] { x, k })[0].ToArray<float>();
        var got = JaxprEval.Eval(reduced, Array.Empty<Tensor>(), new[] { x, k })[0].ToArray<float>();
        Assert.Equal(want, got);
        Assert.Equal(new[] { 7f, -17.5f, 42f }, Transforms.Jit(F).Call(new[] { x, k })[0].ToArray<float>());
    }

    [Fact]
    public void DifferentParametersOrInputsAreNotMerged()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f });
        // exp of two different inputs; two reshapes of one input to different shapes.
        var program = Program(a => new[]
        {
            Lax.Add(Lax.Exp(a[0]), Lax.Add(Lax.Exp(a[1]), Lax.Reshape(Lax.Reshape(a[0], new Shape(2, 1)), new Shape(2)))),
        }, x, x);
        Assert.Same(program, CommonSubexpressions.Run(program));
    }

    [Fact]
    public void ResultsComputedAlikeStayDistinctBuffers()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f });
        var f = Transforms.Jit(a => new[] { Lax.Exp(a[0]), Lax.Exp(a[0]) });
        var program = Program(a => new[] { Lax.Exp(a[0]), Lax.Exp(a[0]) }, x);
        Assert.Equal(program.Eqns.Length, CommonSubexpressions.Run(program).Eqns.Length);
        var outs = f.Call(new[] { x });
        Assert.NotSame(outs[0].Buffer, outs[1].Buffer);
        Assert.Equal(outs[0].ToArray<float>(), outs[1].ToArray<float>());
    }

    [Fact]
    public void EffectsAndCallsAreNotMerged()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f });
        var inner = Transforms.Jit(a => new[] { Lax.Exp(a[0]) }, "inner");
        var program = Program(a => new[] { Lax.Add(inner.Call(new[] { a[0] })[0], inner.Call(new[] { a[0] })[0]) }, x);
        Assert.Equal(2, program.Eqns.Count(e => e.Primitive == Prims.Jit));
        Assert.Equal(2, CommonSubexpressions.Run(program).Eqns.Count(e => e.Primitive == Prims.Jit));
    }
}
