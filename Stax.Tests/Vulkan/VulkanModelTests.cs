using Stax.Nn;
using Stax.Optim;
using Stax.Tests.Infrastructure;
using static Stax.Nn.Layers;

namespace Stax.Tests.Vulkan;

/// <summary>Higher layers on the Vulkan backend: control flow, modules, random numbers, a train step.</summary>
[Trait("Backend", "Vulkan")]
public class VulkanModelTests
{
    static double[] D(Tensor t) => t.ToDoubleArray();

    [VulkanFact]
    public void ControlFlowRunsOnVulkan()
    {
        var vk = VulkanCheck.Vk;
        var xs = TestData.Tensor(3, new[] { 7, 4 });
        var vxs = xs.DevicePut(vk);
        var cpu = Stax.ControlFlow.Scan((Tensor[] c, Tensor[] x) => { var n = c[0] + Np.Tanh(x[0]); return (new[] { n }, new[] { n * 2.0 }); }, new[] { Np.Zeros(new Shape(4)) }, new[] { xs });
        var gpu = Stax.ControlFlow.Scan((Tensor[] c, Tensor[] x) => { var n = c[0] + Np.Tanh(x[0]); return (new[] { n }, new[] { n * 2.0 }); }, new[] { Np.Zeros(new Shape(4)).DevicePut(vk) }, new[] { vxs });
        Check.Close(D(cpu.Ys[0]), D(gpu.Ys[0]), 1e-5, 1e-6);
        Assert.Same(vk, gpu.Ys[0].Backend);
        var n = Stax.ControlFlow.WhileLoop(c => c[0] < 100.0, c => new[] { c[0] * 3.0 }, new[] { Tensor.Scalar(1.0).DevicePut(vk) })[0];
        Assert.Equal(243.0, n.Item<float>());
    }

    [VulkanFact]
    public void RandomNumbersAreBitIdenticalToTheCpu()
    {
        var vk = VulkanCheck.Vk;
        var cpuKey = Rng.Key(7);
        var vkKey = new Key(cpuKey.Data.DevicePut(vk));
        Assert.Equal(Rng.Bits(cpuKey, new Shape(1000)).ToBytes(), Rng.Bits(vkKey, new Shape(1000)).ToBytes());
        Assert.Equal(Rng.Uniform(cpuKey, new Shape(1000)).ToBytes(), Rng.Uniform(vkKey, new Shape(1000)).ToBytes());
        Check.Close(D(Rng.Normal(cpuKey, new Shape(1000))), D(Rng.Normal(vkKey, new Shape(1000))), 2.5e-7, 1e-7);
    }

    [VulkanFact]
    public void AJittedTrainStepMatchesTheCpu()
    {
        var vk = VulkanCheck.Vk;
        var model = Serial(Dense(16), Relu, Dense(3));
        var (_, p) = model.Initialize(Rng.Key(0), new AbstractValue(new Shape(8, 5), DType.Float32));
        var x = TestData.Tensor(4, new[] { 8, 5 });
        var y = Tensor.FromArray(new[] { 0, 1, 2, 0, 1, 2, 0, 1 });
        object Step(object prm, Tensor xb, Tensor yb)
        {
            var g = Transforms.Grad((object q) => Losses.SoftmaxCrossEntropy(model.Apply(q, xb, training: true), yb))(prm);
            return Tree.Map2((a, b) => a - 0.1 * b, prm, g);
        }
        var cpu = Step(p, x, y);
        var gpu = Step(Tree.Map(t => t.DevicePut(vk), p), x.DevicePut(vk), y.DevicePut(vk));
        var lc = Tree.Leaves(cpu); var lg = Tree.Leaves(gpu);
        for (int i = 0; i < lc.Length; i++) { Assert.Same(vk, lg[i].Backend); Check.Close(D(lc[i]), D(lg[i]), 1e-5, 1e-6); }
    }
}
