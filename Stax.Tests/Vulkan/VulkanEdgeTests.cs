using Stax.Tests.Conformance;

namespace Stax.Tests.Vulkan;

/// <summary>JAX's conventions at the edges (<see cref="JaxEdgeChecks"/>) on Vulkan: the CPU cases, inputs on the device.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanEdgeTests
{
    static Tensor Put(Tensor t) => t.DevicePut(VulkanCheck.Vk);

    [VulkanFact]
    public void RemainderTakesTheDivisorsSign() => JaxEdgeChecks.Remainder(Put);

    [VulkanFact]
    public void FloorDivideFollowsNumpysDivmod() => JaxEdgeChecks.FloorDivide(Put);

    [VulkanFact]
    public void FloatToIntegerConversionFollowsXlaCpu() => JaxEdgeChecks.FloatToInteger(Put);

    [VulkanFact]
    public void IndexingOutOfRangeFollowsJax() => JaxEdgeChecks.Indexing(Put);

    [VulkanFact]
    public void DerivativesAtKinksAndTiesFollowJax() => JaxEdgeChecks.KinksAndTies(Put);

    [VulkanFact]
    public void CumulativeDerivativesSplitTiesAsJax() => JaxEdgeChecks.CumulativeTies(Put);

    [VulkanFact]
    public void PowerKeepsIntegersAndUsesIntegerPow() => JaxEdgeChecks.Power(Put);

    [VulkanFact]
    public void EinsumTakesDiagonalsAndManyOperands() => JaxEdgeChecks.Einsum(Put);
}
