using System.Text;

namespace Stax.Vulkan;

/// <summary>Float-control execution modes (SPV_KHR_float_controls) that Stax may add to a module.</summary>
[Flags]
internal enum FloatModes
{
    None = 0,
    /// <summary>SignedZeroInfNanPreserve: no fast-math assumptions about NaN, infinity or -0.</summary>
    SignedZeroInfNanPreserve = 1,
    /// <summary>DenormPreserve: subnormal operands and results are not flushed to zero.</summary>
    DenormPreserve = 2,
    /// <summary>DenormFlushToZero: subnormals flushed (only for tests that imitate flushing drivers).</summary>
    DenormFlushToZero = 4,
}

/// <summary>
/// What a device allows of SPV_KHR_float_controls (VkPhysicalDeviceFloatControlsProperties), per
/// float width 16/32/64. <see cref="DenormIndependence"/> is the Vulkan enum: 0 32-bit only, 1 all, 2 none.
/// </summary>
internal sealed record FloatControlsSupport(
    bool PreserveInfNan16, bool PreserveInfNan32, bool PreserveInfNan64,
    bool DenormPreserve16, bool DenormPreserve32, bool DenormPreserve64,
    bool FlushToZero16, bool FlushToZero32, bool FlushToZero64,
    int DenormIndependence)
{
    public const int Independence32BitOnly = 0, IndependenceAll = 1, IndependenceNone = 2;

    /// <summary>A device without float controls (Vulkan 1.1 without VK_KHR_shader_float_controls).</summary>
    public static readonly FloatControlsSupport Unsupported = new(false, false, false, false, false, false, false, false, false, IndependenceNone);

    public bool PreserveInfNan(int width) => width switch { 16 => PreserveInfNan16, 32 => PreserveInfNan32, 64 => PreserveInfNan64, _ => false };
    public bool DenormPreserve(int width) => width switch { 16 => DenormPreserve16, 32 => DenormPreserve32, 64 => DenormPreserve64, _ => false };
    public bool FlushToZero(int width) => width switch { 16 => FlushToZero16, 32 => FlushToZero32, 64 => FlushToZero64, _ => false };
}

/// <summary>
/// Adds float-control execution modes to SPIR-V modules at pipeline creation, so drivers that
/// otherwise compile float math with fast-math freedoms (NaN/Inf/-0 assumed absent, subnormals
/// flushed) keep IEEE behaviour where the device allows it. The patch inserts the capabilities,
/// the SPV_KHR_float_controls extension (needed before SPIR-V 1.4) and one OpExecutionMode per
/// entry point and float width the module declares (OpTypeFloat); it adds no ids, so the bound is
/// unchanged, and it never overrides a mode the module already sets for a width.
/// </summary>
internal static class SpirvFloatControls
{
    const uint Magic = 0x07230203;
    const int OpExtension = 10, OpEntryPoint = 15, OpExecutionMode = 16, OpCapability = 17,
        OpTypeFloat = 22, OpExecutionModeId = 331;
    internal const uint ModeDenormPreserve = 4459, ModeDenormFlushToZero = 4460, ModeSignedZeroInfNanPreserve = 4461;
    internal const uint CapDenormPreserve = 4464, CapDenormFlushToZero = 4465, CapSignedZeroInfNanPreserve = 4466;
    internal const string Extension = "SPV_KHR_float_controls";

    /// <summary>
    /// The modes to add per float width for a module declaring <paramref name="declared"/> widths on a
    /// device with <paramref name="support"/>. Denormal modes respect the device's independence: with
    /// "32-bit only" 16- and 64-bit must agree, with "none" every declared width must agree (a width
    /// is then left at the driver's default unless all can be preserved).
    /// </summary>
    public static Dictionary<int, FloatModes> Plan(FloatControlsSupport support, IReadOnlyCollection<int> declared, FloatModes wanted)
    {
        var plan = new Dictionary<int, FloatModes>();
        foreach (int w in declared)
        {
            var m = FloatModes.None;
            if ((wanted & FloatModes.SignedZeroInfNanPreserve) != 0 && support.PreserveInfNan(w)) m |= FloatModes.SignedZeroInfNanPreserve;
            if ((wanted & FloatModes.DenormPreserve) != 0 && support.DenormPreserve(w)) m |= FloatModes.DenormPreserve;
            else if ((wanted & FloatModes.DenormFlushToZero) != 0 && support.FlushToZero(w)) m |= FloatModes.DenormFlushToZero;
            plan[w] = m;
        }
        const FloatModes denormModes = FloatModes.DenormPreserve | FloatModes.DenormFlushToZero;
        FloatModes DenormOf(int w) => plan.TryGetValue(w, out var m) ? m & denormModes : FloatModes.None;
        bool Agree(IEnumerable<int> ws) { var d = ws.Select(DenormOf).Distinct().ToArray(); return d.Length == 1 && d[0] != FloatModes.None; }
        void Drop(int w) { if (plan.ContainsKey(w)) plan[w] &= ~denormModes; }
        if (support.DenormIndependence == FloatControlsSupport.Independence32BitOnly)
        {
            var others = declared.Where(w => w != 32).ToArray();
            if (others.Length > 1 && !Agree(others)) foreach (var w in others) Drop(w);
        }
        else if (support.DenormIndependence == FloatControlsSupport.IndependenceNone)
        {
            if (declared.Count > 1 && !Agree(declared)) foreach (var w in declared) Drop(w);
        }
        return plan;
    }

    /// <summary>
    /// Returns <paramref name="spirv"/> with <paramref name="wanted"/> modes added where
    /// <paramref name="support"/> allows them (the input itself when nothing is added).
    /// <paramref name="applied"/> lists what was added, e.g. "SignedZeroInfNanPreserve 32".
    /// </summary>
    public static byte[] Patch(byte[] spirv, FloatControlsSupport support, FloatModes wanted, out List<string> applied)
    {
        applied = new List<string>();
        if (spirv.Length % 4 != 0 || spirv.Length < 20) throw new ArgumentException("SPIR-V: the module is not a whole number of words");
        var words = new uint[spirv.Length / 4];
        Buffer.BlockCopy(spirv, 0, words, 0, spirv.Length);
        if (words[0] != Magic) throw new ArgumentException($"SPIR-V: bad magic number 0x{words[0]:X8}");
        uint version = words[1];

        var caps = new HashSet<uint>();
        var exts = new HashSet<string>();
        var entries = new List<uint>();
        var existing = new HashSet<(uint Entry, uint Mode, uint Width)>();
        var widths = new SortedSet<int>();
        int capEnd = -1, extEnd = -1, modeEnd = -1;
        foreach (var (at, op, wc) in Instructions(words))
        {
            switch (op)
            {
            case OpCapability: caps.Add(words[at + 1]); capEnd = at + wc; break;
            case OpExtension: exts.Add(DecodeString(words.AsSpan(at + 1, wc - 1))); extEnd = at + wc; break;
            case OpEntryPoint: entries.Add(words[at + 2]); modeEnd = at + wc; break;
            case OpExecutionMode:
                if (wc >= 4) existing.Add((words[at + 1], words[at + 2], words[at + 3]));
                modeEnd = at + wc;
                break;
            case OpExecutionModeId: modeEnd = at + wc; break;
            case OpTypeFloat: if (wc >= 3) widths.Add((int)words[at + 2]); break;
            }
        }
        if (capEnd < 0 || modeEnd < 0) throw new ArgumentException("SPIR-V: the module has no OpCapability or no OpEntryPoint");

        var plan = Plan(support, widths, wanted);
        var newModes = new List<uint>();
        bool needPreserve = false, needDenorm = false, needFlush = false;
        foreach (var (w, m) in plan)
        {
            uint width = (uint)w;
            foreach (var ep in entries)
            {
                bool hasDenorm = existing.Contains((ep, ModeDenormPreserve, width)) || existing.Contains((ep, ModeDenormFlushToZero, width));
                if ((m & FloatModes.SignedZeroInfNanPreserve) != 0 && !existing.Contains((ep, ModeSignedZeroInfNanPreserve, width)))
                {
                    newModes.AddRange(new[] { (4u << 16) | OpExecutionMode, ep, ModeSignedZeroInfNanPreserve, width });
                    needPreserve = true;
                }
                if ((m & FloatModes.DenormPreserve) != 0 && !hasDenorm)
                {
                    newModes.AddRange(new[] { (4u << 16) | OpExecutionMode, ep, ModeDenormPreserve, width });
                    needDenorm = true;
                }
                else if ((m & FloatModes.DenormFlushToZero) != 0 && !hasDenorm)
                {
                    newModes.AddRange(new[] { (4u << 16) | OpExecutionMode, ep, ModeDenormFlushToZero, width });
                    needFlush = true;
                }
            }
            if ((m & FloatModes.SignedZeroInfNanPreserve) != 0) applied.Add($"SignedZeroInfNanPreserve {w}");
            if ((m & FloatModes.DenormPreserve) != 0) applied.Add($"DenormPreserve {w}");
            else if ((m & FloatModes.DenormFlushToZero) != 0) applied.Add($"DenormFlushToZero {w}");
        }
        if (newModes.Count == 0) return spirv;

        var newCaps = new List<uint>();
        if (needPreserve && !caps.Contains(CapSignedZeroInfNanPreserve)) newCaps.AddRange(new[] { (2u << 16) | OpCapability, CapSignedZeroInfNanPreserve });
        if (needDenorm && !caps.Contains(CapDenormPreserve)) newCaps.AddRange(new[] { (2u << 16) | OpCapability, CapDenormPreserve });
        if (needFlush && !caps.Contains(CapDenormFlushToZero)) newCaps.AddRange(new[] { (2u << 16) | OpCapability, CapDenormFlushToZero });
        // SPIR-V 1.4 made float controls core; older modules declare the extension.
        var newExt = version < 0x00010400 && !exts.Contains(Extension) ? EncodeInstruction(OpExtension, Extension) : Array.Empty<uint>();

        // Capabilities go after the last OpCapability, the extension after the last OpExtension (or
        // the capabilities), and the modes after the last entry point / execution mode.
        int extAt = extEnd >= 0 ? extEnd : capEnd;
        var output = new List<uint>(words.Length + newCaps.Count + newExt.Length + newModes.Count);
        for (int i = 0; i <= words.Length; i++)
        {
            if (i == capEnd) output.AddRange(newCaps);
            if (i == extAt) output.AddRange(newExt);
            if (i == modeEnd) output.AddRange(newModes);
            if (i < words.Length) output.Add(words[i]);
        }
        var result = new byte[output.Count * 4];
        Buffer.BlockCopy(output.ToArray(), 0, result, 0, result.Length);
        return result;
    }

    /// <summary>The instructions after the 5-word header as (word index, opcode, word count); throws on a malformed stream.</summary>
    static List<(int At, int Op, int WordCount)> Instructions(ReadOnlySpan<uint> words)
    {
        var list = new List<(int, int, int)>();
        int i = 5;
        while (i < words.Length)
        {
            int wc = (int)(words[i] >> 16), op = (int)(words[i] & 0xFFFF);
            if (wc == 0 || i + wc > words.Length) throw new ArgumentException($"SPIR-V: malformed instruction at word {i} (opcode {op}, {wc} words)");
            list.Add((i, op, wc));
            i += wc;
        }
        return list;
    }

    static string DecodeString(ReadOnlySpan<uint> words)
    {
        var bytes = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(4 * i), words[i]);
        int n = Array.IndexOf(bytes, (byte)0);
        return Encoding.UTF8.GetString(bytes, 0, n < 0 ? bytes.Length : n);
    }

    /// <summary>An instruction whose only operand is a literal string (nul-terminated, padded to words).</summary>
    internal static uint[] EncodeInstruction(int opcode, string literal)
    {
        var utf8 = Encoding.UTF8.GetBytes(literal);
        int n = utf8.Length / 4 + 1;
        var w = new uint[1 + n];
        w[0] = ((uint)(1 + n) << 16) | (uint)opcode;
        var padded = new byte[n * 4];
        utf8.CopyTo(padded, 0);
        for (int i = 0; i < n; i++) w[1 + i] = BitConverter.ToUInt32(padded, 4 * i);
        return w;
    }
}
