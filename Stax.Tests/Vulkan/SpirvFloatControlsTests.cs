using System.Diagnostics;
using Stax.Vulkan;

namespace Stax.Tests.Vulkan;

/// <summary>The SPIR-V float-controls patcher (no device needed, except the last two tests).</summary>
[Trait("Backend", "Vulkan")]
public class SpirvFloatControlsTests
{
    static readonly FloatControlsSupport All = new(true, true, true, true, true, true, true, true, true, FloatControlsSupport.IndependenceAll);
    static readonly FloatControlsSupport InfNanOnly = All with { DenormPreserve16 = false, DenormPreserve32 = false, DenormPreserve64 = false };
    const FloatModes Ieee = FloatModes.SignedZeroInfNanPreserve | FloatModes.DenormPreserve;

    static uint[] Words(byte[] b)
    {
        var w = new uint[b.Length / 4];
        Buffer.BlockCopy(b, 0, w, 0, b.Length);
        return w;
    }

    /// <summary>Instructions as (opcode, operands); asserts that the word counts tile the module exactly.</summary>
    static List<(int Op, uint[] Operands)> Parse(byte[] module)
    {
        var w = Words(module);
        Assert.Equal(0x07230203u, w[0]);
        var list = new List<(int, uint[])>();
        int i = 5;
        while (i < w.Length)
        {
            int wc = (int)(w[i] >> 16);
            Assert.True(wc > 0 && i + wc <= w.Length, $"malformed instruction at word {i}");
            list.Add(((int)(w[i] & 0xFFFF), w[(i + 1)..(i + wc)]));
            i += wc;
        }
        Assert.Equal(w.Length, i);
        return list;
    }

    static string Literal(uint[] words)
    {
        var bytes = words.SelectMany(BitConverter.GetBytes).TakeWhile(b => b != 0).ToArray();
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    [Fact]
    public void AddsCapabilitiesExtensionAndModesInLayoutOrder()
    {
        var original = Pipelines.LoadSpirv("elementwise");
        var patched = SpirvFloatControls.Patch(original, All, Ieee, out var applied);
        Assert.Equal(new[] { "SignedZeroInfNanPreserve 32", "DenormPreserve 32" }, applied);
        var ins = Parse(patched);
        var before = Parse(original);
        Assert.Equal(before.Count + 5, ins.Count);                        // 2 capabilities, 1 extension, 2 modes
        Assert.Equal(Words(original)[..5], Words(patched)[..5]);          // header (bound included) unchanged

        Assert.Contains(ins, x => x.Op == 17 && x.Operands[0] == SpirvFloatControls.CapSignedZeroInfNanPreserve);
        Assert.Contains(ins, x => x.Op == 17 && x.Operands[0] == SpirvFloatControls.CapDenormPreserve);
        Assert.Contains(ins, x => x.Op == 10 && Literal(x.Operands) == "SPV_KHR_float_controls");
        uint entry = ins.First(x => x.Op == 15).Operands[1];
        Assert.Contains(ins, x => x.Op == 16 && x.Operands.SequenceEqual(new[] { entry, SpirvFloatControls.ModeSignedZeroInfNanPreserve, 32u }));
        Assert.Contains(ins, x => x.Op == 16 && x.Operands.SequenceEqual(new[] { entry, SpirvFloatControls.ModeDenormPreserve, 32u }));

        // Logical layout: capabilities, extensions, imports, memory model, entry points, execution modes, the rest.
        int Rank(int op) => op switch { 17 => 0, 10 => 1, 11 => 2, 14 => 3, 15 => 4, 16 or 331 => 5, _ => 6 };
        var ranks = ins.Select(x => Rank(x.Op)).ToArray();
        for (int i = 1; i < ranks.Length; i++) Assert.True(ranks[i - 1] <= ranks[i], $"instruction {i} (opcode {ins[i].Op}) is out of the logical layout order");
        // Every original instruction is still there, in order.
        var kept = ins.Where(x => !(x.Op == 17 && x.Operands[0] is 4464 or 4466) && !(x.Op == 10 && Literal(x.Operands) == "SPV_KHR_float_controls")
            && !(x.Op == 16 && x.Operands[1] is 4459 or 4461)).ToList();
        Assert.Equal(before.Count, kept.Count);
        for (int i = 0; i < kept.Count; i++) Assert.True(before[i].Op == kept[i].Op && before[i].Operands.SequenceEqual(kept[i].Operands));
    }

    [Fact]
    public void PatchingIsIdempotentAndOnlyWhatTheDeviceAllows()
    {
        var original = Pipelines.LoadSpirv("reduce");
        var once = SpirvFloatControls.Patch(original, All, Ieee, out _);
        var twice = SpirvFloatControls.Patch(once, All, Ieee, out var again);
        Assert.Equal(once, twice);
        Assert.Equal(new[] { "SignedZeroInfNanPreserve 32", "DenormPreserve 32" }, again);

        var partial = SpirvFloatControls.Patch(original, InfNanOnly, Ieee, out var appliedPartial);
        Assert.Equal(new[] { "SignedZeroInfNanPreserve 32" }, appliedPartial);
        var ins = Parse(partial);
        Assert.DoesNotContain(ins, x => x.Op == 17 && x.Operands[0] == SpirvFloatControls.CapDenormPreserve);
        Assert.DoesNotContain(ins, x => x.Op == 16 && x.Operands[1] == SpirvFloatControls.ModeDenormPreserve);

        Assert.Same(original, SpirvFloatControls.Patch(original, FloatControlsSupport.Unsupported, Ieee, out var none));
        Assert.Empty(none);
        Assert.Same(original, SpirvFloatControls.Patch(original, All, FloatModes.None, out _));
    }

    [Fact]
    public void ModulesWithoutFloatsAreLeftAlone()
    {
        foreach (var shader in new[] { "copy", "index", "threefry", "gemm_i32" })
        {
            var m = Pipelines.LoadSpirv(shader);
            Assert.Same(m, SpirvFloatControls.Patch(m, All, Ieee, out var applied));
            Assert.Empty(applied);
        }
    }

    [Fact]
    public void AnExistingDenormModeIsNotOverridden()
    {
        var ftz = SpirvFloatControls.Patch(Pipelines.LoadSpirv("elementwise"), All with { DenormPreserve32 = false }, FloatModes.DenormFlushToZero, out var a1);
        Assert.Equal(new[] { "DenormFlushToZero 32" }, a1);
        var both = SpirvFloatControls.Patch(ftz, All, Ieee, out _);
        var ins = Parse(both);
        Assert.Contains(ins, x => x.Op == 16 && x.Operands[1] == SpirvFloatControls.ModeDenormFlushToZero);
        Assert.DoesNotContain(ins, x => x.Op == 16 && x.Operands[1] == SpirvFloatControls.ModeDenormPreserve);
        Assert.Contains(ins, x => x.Op == 16 && x.Operands[1] == SpirvFloatControls.ModeSignedZeroInfNanPreserve);
        Assert.DoesNotContain(ins, x => x.Op == 17 && x.Operands[0] == SpirvFloatControls.CapDenormPreserve);
    }

    [Fact]
    public void DenormModesRespectTheDevicesIndependence()
    {
        var only16 = All with { DenormPreserve64 = false };
        // "All": every width on its own.
        var plan = SpirvFloatControls.Plan(only16, new[] { 16, 32, 64 }, Ieee);
        Assert.Equal(Ieee, plan[16]);
        Assert.Equal(FloatModes.SignedZeroInfNanPreserve, plan[64]);
        // "32-bit only": 16 and 64 must agree, so neither gets DenormPreserve; 32 still does.
        plan = SpirvFloatControls.Plan(only16 with { DenormIndependence = FloatControlsSupport.Independence32BitOnly }, new[] { 16, 32, 64 }, Ieee);
        Assert.Equal(FloatModes.SignedZeroInfNanPreserve, plan[16]);
        Assert.Equal(Ieee, plan[32]);
        Assert.Equal(FloatModes.SignedZeroInfNanPreserve, plan[64]);
        // "none": all widths agree or none is set; a module with only float32 is unaffected.
        plan = SpirvFloatControls.Plan(only16 with { DenormIndependence = FloatControlsSupport.IndependenceNone }, new[] { 16, 32, 64 }, Ieee);
        Assert.All(plan.Values, m => Assert.Equal(FloatModes.SignedZeroInfNanPreserve, m));
        plan = SpirvFloatControls.Plan(only16 with { DenormIndependence = FloatControlsSupport.IndependenceNone }, new[] { 32 }, Ieee);
        Assert.Equal(Ieee, plan[32]);
    }

    [Fact]
    public void MalformedModulesAreRejected()
    {
        var m = Pipelines.LoadSpirv("elementwise");
        Assert.Throws<ArgumentException>(() => SpirvFloatControls.Patch(m[..^2], All, Ieee, out _));
        var bad = (byte[])m.Clone();
        bad[0] ^= 1;
        Assert.Throws<ArgumentException>(() => SpirvFloatControls.Patch(bad, All, Ieee, out _));
        var longer = (byte[])m.Clone();
        longer[22] = 0xFF; longer[23] = 0xFF;   // the first instruction's word count now runs past the end
        Assert.Throws<ArgumentException>(() => SpirvFloatControls.Patch(longer, All, Ieee, out _));
    }

    /// <summary>spirv-val accepts every patched module for Vulkan 1.1 and 1.2 (skips without spirv-val).</summary>
    [ToolFact("spirv-val")]
    public void PatchedModulesValidate()
    {
        string dir = Path.Combine(Path.GetTempPath(), "stax-spv-val-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var name in typeof(Pipelines).Assembly.GetManifestResourceNames().Where(n => n.EndsWith(".spv")))
            {
                string shader = Path.GetFileNameWithoutExtension(name);
                foreach (var modes in new[] { Ieee, FloatModes.SignedZeroInfNanPreserve | FloatModes.DenormFlushToZero })
                {
                    var patched = SpirvFloatControls.Patch(Pipelines.LoadSpirv(shader), All, modes, out _);
                    string file = Path.Combine(dir, shader + ".spv");
                    File.WriteAllBytes(file, patched);
                    foreach (var env in new[] { "vulkan1.1", "vulkan1.2" })
                    {
                        using var p = Process.Start(new ProcessStartInfo("spirv-val", $"--target-env {env} \"{file}\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
                        string output = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
                        p.WaitForExit();
                        Assert.True(p.ExitCode == 0, $"{shader} ({modes}, {env}): {output}");
                    }
                }
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The backend's pipelines carry what the capabilities summary reports.</summary>
    [VulkanFact]
    public void PipelinesCarryTheReportedModes()
    {
        var vk = VulkanCheck.Vk;
        var caps = vk.Capabilities;
        Assert.Contains("float controls", caps.ToString());
        Assert.Contains("applied: " + caps.AppliedFloatControls, caps.ToString());
        var applied = vk.Pipelines.AppliedFloatControls("elementwise");
        Assert.Equal(caps.AppliedFloatControls, applied.Count == 0 ? "none" : string.Join(", ", applied));
        Assert.Empty(vk.Pipelines.AppliedFloatControls("copy"));
        if (caps.SignedZeroInfNanPreserveFloat32 && Environment.GetEnvironmentVariable("STAX_VULKAN_FLOAT_CONTROLS") is null or "" or "on" or "1")
            Assert.Contains("SignedZeroInfNanPreserve 32", caps.AppliedFloatControls);
        if (caps.DeviceName.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase))
            Assert.True(caps.FloatControls && caps.SignedZeroInfNanPreserveFloat32, "lavapipe reports float controls, so CI runs patched modules");
        Assert.Equal("none", VulkanIeeeEnv.NoFloatControls.Capabilities.AppliedFloatControls);
        Assert.Empty(VulkanIeeeEnv.NoFloatControls.Pipelines.AppliedFloatControls("elementwise"));
    }
}

/// <summary>A fact that needs a command-line tool: skips when it is not on PATH.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(string tool)
    {
        bool found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, tool)) || File.Exists(Path.Combine(d, tool + ".exe")));
        if (!found) Skip = $"{tool} is not installed";
    }
}
