namespace Stax.Vulkan;

/// <summary>
/// A fused chain's pipeline: one of four precompiled kernels (shaders/fused.glsl) specialized with
/// the chain: per input its load mode, per output the value it stores, per step one operation
/// word. The kernels differ in steps (12 or 48) and in how many steps carry the library
/// functions (exp, log, pow, ...: none, 3 or 8 of 48, 3 of 12); a chain takes the cheapest that
/// fits, since the driver's compile time grows with the steps and the library copies the kernel
/// holds (an Adam chain, whose bias corrections need two pows, fits the one with 3).
/// </summary>
internal static class FusionKernel
{
    /// <summary>Records one dispatch of a fused chain's kernel (float32, one element per invocation).</summary>
    public static void Run(VulkanBackend b, FusedChainParams p, VulkanBuffer[] ins, VulkanBuffer[] outs)
    {
        long n = outs[0].Length;
        var buffers = new VulkanBuffer?[FusionPass.Bindings];
        for (int i = 0; i < outs.Length; i++) buffers[i] = outs[i];
        for (int i = 0; i < ins.Length; i++) buffers[Outputs + i] = ins[i];
        b.Run(p.Shader, p.Spec, buffers, stackalloc int[] { checked((int)n) }, n);
    }

    /// <summary>
    /// The kernels: name, steps (fused.glsl's SLOTS), and every how many steps one carries the library functions
    /// (0: none), cheapest first.
    /// </summary>
    static readonly (string Shader, int Slots, int HeavyEvery)[] Variants =
        { ("fused_s", 12, 0), ("fused_sh", 12, 4), ("fused", 48, 0), ("fused_h3", 48, 16), ("fused_heavy", 48, 6) };

    /// <summary>The most steps a kernel has.</summary>
    public const int MaxSlots = 48;
    const int Inputs = 24, Outputs = 4, FirstStep = 52;
    const uint Nop = 0xFF, None = 0xFF, Load = 100, Store = 101, OpSelect = 64, OpConvert = 65;

    /// <summary>Library functions: only some steps of fused_heavy.comp carry them.</summary>
    public static bool IsHeavy(uint op) => op is >= 1 and <= 6 or >= 11 and <= 14 or 36 or 37 or 40;

    /// <summary>
    /// The shader and specialization constants of a chain program (instruction count, then two
    /// words per instruction: see FusionPass), or null when the chain does not fit the steps.
    /// Operations are placed in order of readiness so that a library function waits for a step
    /// that carries it while cheap operations fill the steps between.
    /// </summary>
    public static (string Shader, int[] Spec)? Specialize(uint[] program)
    {
        foreach (var v in Variants)
            if (Place(program, v.Slots, v.HeavyEvery) is { } spec) return (v.Shader, spec);
        return null;
    }

    // The constants of one kernel for the program, or null when it does not fit that kernel's steps.
    static int[]? Place(uint[] program, int slots, int heavyEvery)
    {
        int count = (int)program[0];
        var spec = new int[FirstStep + slots];
        for (int j = 0; j < Outputs; j++) spec[2 * Inputs + j] = (int)None;
        for (int s = 0; s < slots; s++) spec[FirstStep + s] = (int)Nop;
        for (int k = 0; k < Inputs; k++) spec[Inputs + k] = 1;
        // Operations with their operands as instruction indices (-1: none), stores by output.
        var regDef = new Dictionary<int, int>();           // register -> defining instruction (its current value)
        var loadOf = new Dictionary<int, int>();           // instruction -> input slot, for loads
        var ops = new List<(int Instr, uint Op, int A, int B, int C, uint Kind)>();
        var stores = new List<(int Output, int Def)>();
        bool heavy = false;
        for (int k = 0; k < count; k++)
        {
            uint w0 = program[1 + 2 * k], c = program[2 + 2 * k];
            uint op = w0 & 0xFF; int d = (int)((w0 >> 8) & 0xFF), a = (int)((w0 >> 16) & 0xFF), b = (int)(w0 >> 24);
            if (op == Load)
            {
                spec[a] = (int)(8 | (uint)b);
                spec[Inputs + a] = (int)Math.Max(c, 1);
                loadOf[k] = a;
                regDef[d] = k;
                continue;
            }
            if (op == Store) { stores.Add((b, regDef[a])); continue; }
            int A = regDef[a];
            int B = (op & 0x7F) is >= 32 and < 64 || op == OpSelect ? regDef[b] : -1;
            int C = op == OpSelect ? regDef[(int)c] : -1;
            ops.Add((k, op, A, B, C, op == OpConvert ? c : 0));
            heavy |= IsHeavy(op);
            regDef[d] = k;
        }
        if (ops.Count > slots || (heavy && heavyEvery == 0)) return null;
        // Value numbers: input k is k, step s is 24 + s.
        var value = new Dictionary<int, int>();
        foreach (var (k, slot) in loadOf) value[k] = slot;
        var placed = new bool[ops.Count];
        int done = 0;
        for (int s = 0; s < slots && done < ops.Count; s++)
        {
            bool canHeavy = heavyEvery > 0 && s % heavyEvery == heavyEvery - 1;
            int pick = -1;
            for (int i = 0; i < ops.Count; i++)
            {
                var o = ops[i];
                if (placed[i] || !value.ContainsKey(o.A)
                    || (o.B >= 0 && !value.ContainsKey(o.B)) || (o.C >= 0 && !value.ContainsKey(o.C))) continue;
                bool h = IsHeavy(o.Op);
                if (h && !canHeavy) continue;
                if (pick < 0 || (canHeavy && h && !IsHeavy(ops[pick].Op))) pick = i;
                if (!canHeavy || h) break;
            }
            if (pick < 0) continue;
            var p = ops[pick];
            uint c = p.Op == OpSelect ? (uint)value[p.C] : p.Kind;
            spec[FirstStep + s] = (int)(p.Op | (uint)value[p.A] << 8 | (uint)(p.B >= 0 ? value[p.B] : 0) << 16 | c << 24);
            value[p.Instr] = Inputs + s;
            placed[pick] = true;
            done++;
        }
        if (done < ops.Count) return null;
        foreach (var (j, def) in stores) spec[2 * Inputs + j] = value[def];
        return spec;
    }
}
