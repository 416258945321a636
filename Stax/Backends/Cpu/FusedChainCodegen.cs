using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Stax.Backends.Cpu.Simd;
using Kind = Stax.Backends.Cpu.FusedStep.Kind;
using Loc = Stax.Backends.Cpu.FusedStep.Loc;
using Node = Stax.Backends.Cpu.FusedStep.Node;
using NodeOp = Stax.Backends.Cpu.FusedStep.NodeOp;

namespace Stax.Backends.Cpu;

/// <summary>
/// One loop over whole vectors of a fused float32 chain (elements [start, end), a multiple of the vector width apart),
/// generated at program compile time for one vector width: see <see cref="FusedChainCodegen"/>.
/// </summary>
internal delegate void FusedChainLoop(byte[]?[] arrays, float[] splat, long start, long end);

/// <summary>
/// Generates, with <see cref="DynamicMethod"/>, one loop for a fused float32 chain whose nodes all have vector forms:
/// per vector (16 elements with Vector512, 8 with Vector256) it loads each streamed array once, applies the chain's
/// operator structs' own static <c>Invoke(Vector512&lt;float&gt;...)</c> (or Vector256) methods (found by reflection)
/// in the chain's order with intermediates in
/// locals (registers), and stores the outputs. The JIT compiles dynamic methods fully optimized, so the operators
/// inline into one loop body. Same operators, same order, no contraction: the bits equal the tile interpreter's.
/// Without a JIT (NativeAOT) or with <c>STAX_CPU_CHAIN_CODEGEN=0</c> nothing is generated and the interpreter runs.
/// </summary>
internal static class FusedChainCodegen
{
    /// <summary>Elements per iteration of a generated loop for <paramref name="isa"/> (0: none is generated).</summary>
    public static int Width(Isa isa) => isa switch { Isa.Vector512 => 16, Isa.Vector256 => 8, _ => 0 };

    static readonly ConcurrentDictionary<string, FusedChainLoop?> Cache = new();
    static long _runs;

    /// <summary>How many ranges generated loops have run (tests check the generated path ran).</summary>
    internal static long Runs => Interlocked.Read(ref _runs);

    internal static void CountRun() => Interlocked.Increment(ref _runs);

    /// <summary>Whether chains get generated loops: a JIT is present and <c>STAX_CPU_CHAIN_CODEGEN</c> is not 0 (read
    /// when a program is compiled).</summary>
    internal static bool Enabled
        => RuntimeFeature.IsDynamicCodeSupported && RuntimeFeature.IsDynamicCodeCompiled
            && Environment.GetEnvironmentVariable("STAX_CPU_CHAIN_CODEGEN") != "0";

    /// <summary>The generated loop for <paramref name="nodes"/> with vectors of <paramref name="isa"/> (cached per chain
    /// signature); null when disabled, when the vectors are not accelerated, or when a node has no vector form.</summary>
    internal static FusedChainLoop? TryGet(Node[] nodes, Isa isa)
    {
        bool accelerated = isa == Isa.Vector512 ? Vector512.IsHardwareAccelerated
            : isa == Isa.Vector256 && Vector256.IsHardwareAccelerated;
        if (!Enabled || !accelerated) return null;
        var key = Signature(nodes);
        if (key == null) return null;
        return Cache.GetOrAdd(isa + key, _ => Generate(nodes, isa));
    }

    // The chain's nodes as text (operator types, operand locations, splat indices); null if a node cannot be generated.
    static string? Signature(Node[] nodes)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var nd in nodes)
        {
            if (nd.Op is not (NodeOp.Apply or NodeOp.Fill or NodeOp.Select)) return null;
            sb.Append(nd.Op).Append(' ').Append(nd.Instr?.GetType().FullName).Append(' ');
            if (nd.Instr?.Operands is { } o) sb.Append(o.SplatFirst).Append(o.InnerFirst);
            sb.Append(nd.A).Append(nd.B).Append(nd.C).Append(nd.Dst).Append(nd.SplatIndex).Append(';');
        }
        return sb.ToString();
    }

    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "The operator structs' Invoke methods are kept: "
        + "the interpreter's generic instantiations call them. Without them the chain falls back to the interpreter.")]
    static MethodInfo? VectorInvoke(Type op, int arity, Type vector)
    {
        var vectorizable = op.GetProperty("Vectorizable", BindingFlags.Public | BindingFlags.Static);
        if (vectorizable?.GetValue(null) is not true) return null;
        var args = Enumerable.Repeat(vector, arity).ToArray();
        var m = op.GetMethod("Invoke", BindingFlags.Public | BindingFlags.Static, args);
        return m != null && m.ReturnType == vector ? m : null;
    }

    // The helper of that name for the loop's vector width (Load16, Load8, ...).
    static MethodInfo Helper(string name, int width)
        => typeof(FusedChainCodegen).GetMethod(name + width, BindingFlags.NonPublic | BindingFlags.Static)!;

    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only reached where dynamic code is compiled "
        + "(Enabled checks RuntimeFeature.IsDynamicCodeSupported).")]
    static FusedChainLoop? Generate(Node[] nodes, Isa isa)
    {
        int width = Width(isa);
        var v = isa == Isa.Vector512 ? typeof(Vector512<float>) : typeof(Vector256<float>);
        // Operators first: any node without a vector form leaves the chain to the interpreter.
        var ops = new (MethodInfo? Inner, MethodInfo? Outer)[nodes.Length];
        for (int k = 0; k < nodes.Length; k++)
        {
            var nd = nodes[k];
            if (nd.Op != NodeOp.Apply) continue;
            if (nd.Instr!.Operands is not { } o) return null;
            var mi = VectorInvoke(o.Inner, nd.Instr.InnerArity, v);
            var mo = o.Outer == null ? null : VectorInvoke(o.Outer, 2, v);
            if (mi == null || o.Outer != null && mo == null) return null;
            ops[k] = (mi, mo);
        }
        var parameters = new[] { typeof(byte[][]), typeof(float[]), typeof(long), typeof(long) };
        var dm = new DynamicMethod("fused_chain", typeof(void), parameters, typeof(FusedChainCodegen).Module,
            skipVisibility: true);
        var il = dm.GetILGenerator();
        // Array bases (managed pointers) and splat vectors, once per call.
        var bases = new Dictionary<int, LocalBuilder>();
        var splats = new Dictionary<int, LocalBuilder>();
        LocalBuilder Base(int array)
        {
            if (bases.TryGetValue(array, out var l)) return l;
            l = il.DeclareLocal(typeof(float).MakeByRefType());
            il.Emit(OpCodes.Ldarg_0); il.Emit(OpCodes.Ldc_I4, array); il.Emit(OpCodes.Call, Helper("ArrayBase", 0));
            il.Emit(OpCodes.Stloc, l);
            return bases[array] = l;
        }
        LocalBuilder Splat(int k)
        {
            if (splats.TryGetValue(k, out var l)) return l;
            l = il.DeclareLocal(v);
            il.Emit(OpCodes.Ldarg_1); il.Emit(OpCodes.Ldc_I4, k); il.Emit(OpCodes.Call, Helper("SplatVector", width));
            il.Emit(OpCodes.Stloc, l);
            return splats[k] = l;
        }
        foreach (var nd in nodes)
        {
            foreach (var l in new[] { nd.A, nd.B, nd.C, nd.Dst })
                if (l.Kind is Kind.External or Kind.Output) Base(l.Index);
            if (nd.SplatIndex >= 0) Splat(nd.SplatIndex);
        }
        var i = il.DeclareLocal(typeof(nint));
        var end = il.DeclareLocal(typeof(nint));
        il.Emit(OpCodes.Ldarg_2); il.Emit(OpCodes.Conv_I); il.Emit(OpCodes.Stloc, i);
        il.Emit(OpCodes.Ldarg_3); il.Emit(OpCodes.Conv_I); il.Emit(OpCodes.Stloc, end);
        var body = il.DefineLabel();
        var cond = il.DefineLabel();
        il.Emit(OpCodes.Br, cond);
        il.MarkLabel(body);
        // The value of each location in this iteration: an external array is loaded at its first read (before any
        // output that may share its buffer is stored: the step only aliases an output to an input read no later).
        var value = new Dictionary<Loc, LocalBuilder>();
        LocalBuilder Get(Loc l)
        {
            if (value.TryGetValue(l, out var x)) return x;
            if (l.Kind != Kind.External)
                throw new InvalidOperationException($"Internal error: fused chain reads {l} before it is written");
            x = il.DeclareLocal(v);
            il.Emit(OpCodes.Ldloc, bases[l.Index]); il.Emit(OpCodes.Ldloc, i); il.Emit(OpCodes.Call, Helper("Load", width));
            il.Emit(OpCodes.Stloc, x);
            return value[l] = x;
        }
        for (int k = 0; k < nodes.Length; k++)
        {
            var nd = nodes[k];
            LocalBuilder result;
            if (nd.Op == NodeOp.Fill) result = splats[nd.SplatIndex];
            else
            {
                if (nd.Op == NodeOp.Select)
                {
                    il.Emit(OpCodes.Ldloc, Get(nd.A)); il.Emit(OpCodes.Ldloc, Get(nd.B)); il.Emit(OpCodes.Ldloc, Get(nd.C));
                    il.Emit(OpCodes.Call, Helper("Select", width));
                }
                else EmitApply(il, nd, ops[k].Inner!, ops[k].Outer, v, Get, splats);
                result = il.DeclareLocal(v);
                il.Emit(OpCodes.Stloc, result);
            }
            if (nd.Dst.Kind == Kind.Output)
            {
                il.Emit(OpCodes.Ldloc, result); il.Emit(OpCodes.Ldloc, bases[nd.Dst.Index]); il.Emit(OpCodes.Ldloc, i);
                il.Emit(OpCodes.Call, Helper("Store", width));
            }
            value[nd.Dst] = result;
        }
        il.Emit(OpCodes.Ldloc, i); il.Emit(OpCodes.Ldc_I4, width); il.Emit(OpCodes.Conv_I); il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, i);
        il.MarkLabel(cond);
        il.Emit(OpCodes.Ldloc, i); il.Emit(OpCodes.Ldloc, end); il.Emit(OpCodes.Blt, body);
        il.Emit(OpCodes.Ret);
        return dm.CreateDelegate<FusedChainLoop>();
    }

    // Pushes the operator's operands and calls it (and, for a superinstruction, the outer operator), as the
    // interpreter's instruction classes order them.
    static void EmitApply(ILGenerator il, Node nd, MethodInfo inner, MethodInfo? outer, Type vector,
        Func<Loc, LocalBuilder> get, Dictionary<int, LocalBuilder> splats)
    {
        var (_, _, splatFirst, innerFirst) = nd.Instr!.Operands!.Value;
        int arity = nd.Instr.InnerArity;
        if (arity == 1) il.Emit(OpCodes.Ldloc, get(nd.A));
        else if (nd.SplatIndex < 0) { il.Emit(OpCodes.Ldloc, get(nd.A)); il.Emit(OpCodes.Ldloc, get(nd.B)); }
        else if (splatFirst) { il.Emit(OpCodes.Ldloc, splats[nd.SplatIndex]); il.Emit(OpCodes.Ldloc, get(nd.A)); }
        else { il.Emit(OpCodes.Ldloc, get(nd.A)); il.Emit(OpCodes.Ldloc, splats[nd.SplatIndex]); }
        il.Emit(OpCodes.Call, inner);
        if (outer == null) return;
        // y = outer(t, z) or outer(z, t), z the node's second operand.
        if (innerFirst) il.Emit(OpCodes.Ldloc, get(nd.B));
        else
        {
            var t = il.DeclareLocal(vector);
            il.Emit(OpCodes.Stloc, t); il.Emit(OpCodes.Ldloc, get(nd.B)); il.Emit(OpCodes.Ldloc, t);
        }
        il.Emit(OpCodes.Call, outer);
    }

    // Helpers the generated code calls (inlined by the JIT), one per vector width.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ref float ArrayBase0(byte[]?[] arrays, int k)
        => ref Unsafe.As<byte, float>(ref MemoryMarshal.GetArrayDataReference(arrays[k]!));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> SplatVector16(float[] splat, int k) => Vector512.Create(splat[k]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> SplatVector8(float[] splat, int k) => Vector256.Create(splat[k]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Load16(ref float b, nint i) => Vector512.LoadUnsafe(ref b, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Load8(ref float b, nint i) => Vector256.LoadUnsafe(ref b, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store16(Vector512<float> x, ref float b, nint i) => x.StoreUnsafe(ref b, (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store8(Vector256<float> x, ref float b, nint i) => x.StoreUnsafe(ref b, (nuint)i);

    // select(pred, onTrue, onFalse) with pred as 0/1 floats, as the interpreter's select.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Select16(Vector512<float> p, Vector512<float> t, Vector512<float> f)
        => Vector512.ConditionalSelect(Vector512.Equals(p, Vector512<float>.Zero), f, t);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Select8(Vector256<float> p, Vector256<float> t, Vector256<float> f)
        => Vector256.ConditionalSelect(Vector256.Equals(p, Vector256<float>.Zero), f, t);
}
