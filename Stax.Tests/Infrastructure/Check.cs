using Stax.Tests.Reference;

namespace Stax.Tests.Infrastructure;

/// <summary>Assertions comparing Stax results with the reference evaluator.</summary>
public static class Check
{
    /// <summary>Every ISA path this machine has, as xunit theory data.</summary>
    public static IEnumerable<object[]> Isas => Config.AvailableIsas.Select(i => new object[] { i });

    /// <summary>
    /// Asserts elementwise closeness: |a - e| &lt;= atol + rtol * |e|; NaN must match NaN, infinities
    /// must match exactly. The message names the first mismatching index and values.
    /// </summary>
    public static void Close(RefArray expected, Tensor actual, double rtol = 0, double atol = 0, string? context = null)
    {
        Assert.Equal(Shape.Format(expected.Shape), actual.Shape.ToString());
        Assert.Equal(expected.DType, actual.DType);
        var a = actual.ToDoubleArray();
        Close(expected.Data, a, rtol, atol, context);
    }

    /// <summary>Elementwise closeness of two double arrays (see the other overload).</summary>
    public static void Close(double[] expected, double[] actual, double rtol = 0, double atol = 0, string? context = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], v = actual[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(v)
                : double.IsInfinity(e) ? e == v
                : Math.Abs(v - e) <= atol + rtol * Math.Abs(e);
            if (!ok)
                Assert.Fail($"{context}: element {i}: expected {e:R}, got {v:R} (rtol {rtol}, atol {atol})");
        }
    }

    /// <summary>Runs a primitive through Stax (default backend) and the reference, and compares.</summary>
    public static void AgainstReference(Primitive p, Params parameters, Tensor[] inputs, double rtol = 0, double atol = 0, string? context = null)
    {
        var expected = Ref.Eval(p, parameters, inputs.Select(RefArray.From).ToArray());
        var actual = p.Bind(parameters, inputs);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Close(expected[i], actual[i], rtol, atol, $"{context ?? p.Name} output {i}");
    }

    /// <summary>Asserts that <paramref name="action"/> throws an exception whose message contains every fragment.</summary>
    public static TException Throws<TException>(Action action, params string[] fragments) where TException : Exception
    {
        var ex = Assert.ThrowsAny<TException>(action);
        foreach (var f in fragments)
            Assert.Contains(f, ex.Message);
        return ex;
    }
}
