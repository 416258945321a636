using System.Runtime.InteropServices;
using Stax.Backends.Cpu;
using Xunit;

namespace Stax.Tests.Performance;

/// <summary>
/// <see cref="Primitive.DonatingImpl"/> in compiled CPU programs: a bound equation may overwrite the
/// operands that die there (intermediates that kernels wrote and nothing reads afterwards), and a
/// result that is such an operand takes over its buffer. Arguments, program outputs, values read
/// again later and operands passed twice are never marked dead.
/// </summary>
[Collection("cpu-pool")]
public class DonatingImplTests
{
    // Doubles every float32 operand; dead ones in place. Records the dead flags of each call.
    static readonly List<bool[]> Calls = new();
    static readonly Primitive Double = CreateDouble();

    static Primitive CreateDouble()
    {
        var p = new Primitive("test_double_in_place", PrimitiveFamily.Control, (ins, _) => ins.ToArray(),
            inputs: -1, multipleResults: true);
        p.Impl = (args, _) => args.Select(x => x * 2.0).ToArray();
        p.DonatingImpl = (args, dead, _) =>
        {
            lock (Calls) Calls.Add(dead.ToArray());
            var outs = new Tensor[args.Length];
            for (int i = 0; i < args.Length; i++)
            {
                if (!dead[i]) { outs[i] = args[i] * 2.0; continue; }
                var values = MemoryMarshal.Cast<byte, float>(CpuBackend.Instance.HostBytes(args[i]));
                for (int k = 0; k < values.Length; k++) values[k] *= 2;
                outs[i] = args[i];
            }
            return outs;
        };
        return p;
    }

    static bool[] LastCall()
    {
        lock (Calls) return Calls[^1];
    }

    [Fact]
    public void OnlyOperandsThatDieAtTheEquationAreDead()
    {
        var f = Transforms.Jit((Tensor[] a) =>
        {
            var t = a[0] + 1.0;        // dies at the equation: dead
            var u = a[1] * 3.0;        // read again below
            var w = a[0] - 1.0;        // also a program output
            var v = a[1] + 5.0;        // passed twice
            var r = Double.Bind(Params.None, t, u, a[0], w, v, v);
            return new[] { r[0], r[1] + u, r[2], r[3], w, r[4] + r[5] };
        }, "donating");
        var x = Tensor.FromArray(new[] { 1f, 2f, 3f });
        var y = Tensor.FromArray(new[] { 4f, 5f, 6f });
        for (int call = 0; call < 3; call++)
        {
            var r = f.Call(new[] { x, y });
            Assert.Equal(new[] { true, false, false, false, false, false }, LastCall());
            Assert.Equal(new[] { 4f, 6f, 8f }, r[0].ToArray<float>());        // 2 (x + 1)
            Assert.Equal(new[] { 36f, 45f, 54f }, r[1].ToArray<float>());     // 2 (3y) + 3y
            Assert.Equal(new[] { 2f, 4f, 6f }, r[2].ToArray<float>());
            Assert.Equal(new[] { 0f, 2f, 4f }, r[3].ToArray<float>());        // 2 (x - 1)
            Assert.Equal(new[] { 0f, 1f, 2f }, r[4].ToArray<float>());        // x - 1, not overwritten
            Assert.Equal(new[] { 36f, 40f, 44f }, r[5].ToArray<float>());     // 4 (y + 5)
        }
        // The arguments kept their values.
        Assert.Equal(new[] { 1f, 2f, 3f }, x.ToArray<float>());
        Assert.Equal(new[] { 4f, 5f, 6f }, y.ToArray<float>());
    }

    [Fact]
    public void ResultsWrittenInPlaceOwnTheirBuffersAcrossCalls()
    {
        // The dead operand's buffer becomes the result's, is read by the next equation and returns
        // to the pool after it: the live bytes stay flat over many calls with results kept.
        var f = Transforms.Jit((Tensor[] a) =>
        {
            var r = Double.Bind(Params.None, a[0] * 3.0);
            return new[] { (r[0] + 1.0).Sum() };
        }, "donating_loop");
        var x = Tensor.FromArray(Enumerable.Range(0, 4096).Select(i => (float)(i % 7)).ToArray());
        float expected = Enumerable.Range(0, 4096).Sum(i => 6f * (i % 7) + 1f);
        f.Call(new[] { x });
        long live = CpuBackend.Instance.MemoryStats.LiveBytes;
        for (int call = 0; call < 200; call++)
        {
            Assert.Equal(expected, f.Call(new[] { x })[0].Item<float>());
            Assert.Equal(new[] { true }, LastCall());
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.True(CpuBackend.Instance.MemoryStats.LiveBytes <= live + 4096 * 4,
            $"live bytes grew from {live} to {CpuBackend.Instance.MemoryStats.LiveBytes} over 200 calls");
    }

    [Fact]
    public void EagerEvaluationUsesTheImpl()
    {
        var x = Tensor.FromArray(new[] { 1f, 2f });
        int calls;
        lock (Calls) calls = Calls.Count;
        var r = Double.Bind(Params.None, x);
        Assert.Equal(new[] { 2f, 4f }, r[0].ToArray<float>());
        Assert.Equal(new[] { 1f, 2f }, x.ToArray<float>());
        lock (Calls) Assert.Equal(calls, Calls.Count);
    }
}
