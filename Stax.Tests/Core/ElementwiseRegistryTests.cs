using System.Text.RegularExpressions;
using Stax.Backends;
using Stax.Backends.Cpu;
using Stax.Tests.Infrastructure;
using Stax.Tracing;
using Stax.Vulkan;
using Xunit;

namespace Stax.Tests.Core;

/// <summary>The elementwise registry is complete, and every backend path built from it agrees.</summary>
public class ElementwiseRegistryTests
{
    static readonly DType[] AllDTypes = Enum.GetValues<DType>();

    // Parameters that select each registry entry (round has one entry per tie rule).
    static readonly Params[] Candidates =
        { Params.None, new RoundParams(RoundingMethod.AwayFromZero), new RoundParams(RoundingMethod.ToNearestEven) };

    static Params ParamsOf(ElementwiseOp op)
        => Candidates.Single(p => op.Applies is null ? p == Params.None : op.Applies(p) && ElementwiseOps.Find(op.Primitive, p) == op);

    static int Inputs(ElementwiseOp op) => op.Arity is ElementwiseArity.Unary or ElementwiseArity.Predicate ? 1 : 2;

    static bool TypeRuleAccepts(ElementwiseOp op, DType t)
    {
        var avals = Enumerable.Repeat(new AbstractValue(new Shape(3), t), Inputs(op)).ToArray();
        try { op.Primitive.AbstractEval(avals, ParamsOf(op)); return true; }
        catch (ArgumentException) { return false; }
    }

    static Tensor Sample(DType t, int seed) => Tensor.FromArray(new[] { 1.5f + seed, -2f, 0.25f }).AsType(t);

    [Fact]
    public void EveryPrimitiveHasACpuOperatorForExactlyTheDTypesItsTypeRuleAccepts()
    {
        foreach (var op in ElementwiseOps.All)
            foreach (var t in AllDTypes)
            {
                bool accepted = TypeRuleAccepts(op, t);
                Assert.True(accepted == (op.Cpu(t) != null),
                    $"{op}: type rule {(accepted ? "accepts" : "rejects")} {t.Name()} but the registry {(op.Cpu(t) != null ? "has" : "lacks")} an operator");
                if (!accepted) continue;
                // The eager kernel built from the registry runs it.
                var args = Enumerable.Range(0, Inputs(op)).Select(k => Sample(t, k)).ToArray();
                var r = op.Primitive.Bind1(ParamsOf(op), args);
                Assert.Equal(new Shape(3), r.Shape);
            }
    }

    [Fact]
    public void EveryFloat32OperatorJoinsFusedChains()
    {
        foreach (var op in ElementwiseOps.All.Where(o => o.Float32 != null))
        {
            var x = Tensor.FromArray(new float[] { 0.5f, -0.25f, 2f, 3f });
            var closed = StagingTrace.Stage(a => new[] { op.Primitive.Bind1(ParamsOf(op), a) },
                Enumerable.Repeat(x.Aval, Inputs(op)).ToArray(), "one_op");
            var eqn = Assert.Single(closed.Jaxpr.Eqns);
            Assert.True(FusedStep.Fusible(eqn) == 4, $"{op} should be fusible in a float32 chain");
        }
    }

    [Fact]
    public void EveryPrimitiveHasAUniqueVulkanOpCodeAndKernel()
    {
        Assert.Equal(ElementwiseOps.All.Count, ElementwiseOps.All.Select(o => o.VulkanOp).Distinct().Count());
        foreach (var op in ElementwiseOps.All)
        {
            Assert.InRange(op.VulkanOp, 0, 63);   // 64 and above are select, convert, iota, bitcast
            Assert.Equal(op.Arity is ElementwiseArity.Unary or ElementwiseArity.Predicate, op.VulkanOp < 32);   // the shader's unary/binary split
            Assert.Contains(op.Primitive.Name, VulkanBackend.SupportedPrimitives);
        }
        if (SourceTree.Root is not { } root) return;   // binaries away from the sources: nothing more to read
        // The op codes are the ones the shader switches on.
        var src = File.ReadAllText(Path.Combine(root, "shaders", "elementwise.comp"));
        var codes = Regex.Matches(src, @"\b[A-Z_0-9]+ = (\d+)\b").Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        foreach (var op in ElementwiseOps.All)
            Assert.True(codes.Contains(op.VulkanOp), $"{op}: op code not defined in shaders/elementwise.comp");
    }

    // Specials, halves (round's ties), subnormals and ordinary values.
    static readonly float[] Specials =
    {
        float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-40f, -1e-40f, 0.5f, -0.5f, 1.5f, -2.5f,
        2.5f, 3f, -7.25f, 1e30f, -1e30f, 0.999f, -0.999f,
    };

    static Tensor Values(int seed, int n)
    {
        var rng = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i < Specials.Length ? Specials[(i + seed) % Specials.Length] : (float)(rng.NextDouble() * 12 - 6);
        return Tensor.FromArray(v);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void ChainWithErfErfInvRoundAndRemFusesAndMatchesEagerBitForBit(Isa isa)
    {
        using var _ = Config.UseIsa(isa);
        foreach (int n in new[] { 1, 18, 1000, 4099 })
        {
            var args = new[] { Values(1, n), Values(7, n) };
            Func<Tensor[], Tensor[]> f = a =>
            {
                var e = Lax.Erf(a[0] * 0.5);
                var inv = Lax.ErfInv(e * 0.99);
                var away = Lax.Round(a[0] * 1.0, RoundingMethod.AwayFromZero);
                var even = Lax.Round(a[1] + 0.0, RoundingMethod.ToNearestEven);
                var rem = Lax.Rem(a[0] + inv, a[1] - 0.5);
                var fin = Lax.IsFinite(rem);
                return new[] { (away - even) * rem + inv, Lax.Select(fin, rem, e), fin };
            };
            var closed = StagingTrace.Stage(f, args.Select(a => a.Aval).ToArray(), "chain");
            var j = closed.Jaxpr;
            var program = new Jaxpr(Array.Empty<Var>(), j.ConstVars.Concat(j.InVars).ToArray(), j.Eqns, j.OutVars);
            var all = closed.Consts.Concat(args).ToArray();
            var eager = new InterpretedExecutable(program).Run(all);
            var exe = Assert.IsType<CpuExecutable>(CpuBackend.Instance.Compile(program));
            var fused = exe.Run(all, null);
            // Every operator runs inside the fused pass (the only other steps fill scalar constants).
            Assert.True(exe.FusedGroups > 0);
            Assert.DoesNotContain(exe.StepNames, s => s.StartsWith("erf") || s.StartsWith("round") || s.StartsWith("rem") || s.StartsWith("is_finite"));
            Assert.Equal(eager.Length, fused.Length);
            for (int k = 0; k < eager.Length; k++)
            {
                Assert.Equal(eager[k].Aval, fused[k].Aval);
                Assert.Equal(eager[k].ToBytes(), fused[k].ToBytes());
            }
        }
    }
}
