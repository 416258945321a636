using Stax.Tests.Infrastructure;

namespace Stax.Tests.Conformance;

/// <summary>JAX's conventions at the edges (<see cref="JaxEdgeChecks"/>) on the CPU, on every ISA path.</summary>
public class JaxEdgeTests
{
    static void OnIsa(Isa isa, Action<Func<Tensor, Tensor>> check)
    {
        using (Config.UseIsa(isa)) check(t => t);
    }

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void RemainderTakesTheDivisorsSign(Isa isa) => OnIsa(isa, JaxEdgeChecks.Remainder);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void FloorDivideFollowsNumpysDivmod(Isa isa) => OnIsa(isa, JaxEdgeChecks.FloorDivide);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void FloatToIntegerConversionFollowsXlaCpu(Isa isa) => OnIsa(isa, JaxEdgeChecks.FloatToInteger);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void IndexingOutOfRangeFollowsJax(Isa isa) => OnIsa(isa, JaxEdgeChecks.Indexing);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void DerivativesAtKinksAndTiesFollowJax(Isa isa) => OnIsa(isa, JaxEdgeChecks.KinksAndTies);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void CumulativeDerivativesSplitTiesAsJax(Isa isa) => OnIsa(isa, JaxEdgeChecks.CumulativeTies);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void PowerKeepsIntegersAndUsesIntegerPow(Isa isa) => OnIsa(isa, JaxEdgeChecks.Power);

    [Theory]
    [MemberData(nameof(Check.Isas), MemberType = typeof(Check))]
    public void EinsumTakesDiagonalsAndManyOperands(Isa isa) => OnIsa(isa, JaxEdgeChecks.Einsum);
}
