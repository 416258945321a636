using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Stax.Tests.Api;

/// <summary>
/// The public surface of an assembly as sorted text lines: every exported type with its base and
/// interfaces, and its public and protected members with their signatures. Checked-in listings
/// of it make every change to the API a deliberate, reviewed edit.
/// </summary>
public static class PublicApi
{
    const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance
        | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The listing of <paramref name="assembly"/>.</summary>
    public static string Describe(Assembly assembly)
    {
        var sb = new StringBuilder();
        foreach (var t in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            sb.Append(TypeHeader(t)).Append('\n');
            foreach (var line in Members(t).Order(StringComparer.Ordinal)) sb.Append("  ").Append(line).Append('\n');
        }
        return sb.ToString();
    }

    static string TypeHeader(Type t)
    {
        string kind = t.IsEnum ? "enum" : t.IsInterface ? "interface" : t.IsValueType ? "struct"
            : typeof(Delegate).IsAssignableFrom(t) ? "delegate" : "class";
        var mods = kind != "class" ? "" : t.IsAbstract && t.IsSealed ? "static " : t.IsAbstract ? "abstract " : t.IsSealed ? "sealed " : "";
        var bases = new List<string>();
        if (kind == "class" && t.BaseType is { } b && b != typeof(object) && !typeof(Delegate).IsAssignableFrom(t)) bases.Add(Name(b));
        if (kind != "delegate" && kind != "enum")
            bases.AddRange(t.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        if (kind == "delegate" && t.GetMethod("Invoke") is { } invoke)
            return $"delegate {Name(invoke.ReturnType)} {FullName(t)}({Parameters(invoke)})";
        return $"{mods}{kind} {FullName(t)}" + (bases.Count > 0 ? " : " + string.Join(", ", bases) : "");
    }

    static bool Visible(MethodBase? m) => m != null && (m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly);

    static IEnumerable<string> Members(Type t)
    {
        if (t.IsEnum)
        {
            foreach (var f in t.GetFields(BindingFlags.Public | BindingFlags.Static))
                yield return $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue())}";
            yield break;
        }
        if (typeof(Delegate).IsAssignableFrom(t)) yield break;
        foreach (var c in t.GetConstructors(Declared).Where(Visible))
            yield return $"{Access(c)}ctor({Parameters(c)})";
        foreach (var m in t.GetMethods(Declared).Where(Visible))
        {
            if (m.IsSpecialName && !m.Name.StartsWith("op_", StringComparison.Ordinal)) continue; // accessors
            if (m.GetCustomAttribute<CompilerGeneratedAttribute>() != null && m.Name.Contains('<')) continue;
            var generic = m.IsGenericMethod ? "<" + string.Join(", ", m.GetGenericArguments().Select(a => a.Name)) + ">" : "";
            yield return $"{Access(m)}{Modifiers(m)}{Name(m.ReturnType)} {m.Name}{generic}({Parameters(m)})";
        }
        foreach (var p in t.GetProperties(Declared))
        {
            var get = p.GetMethod is { } g && Visible(g) ? g : null;
            var set = p.SetMethod is { } s && Visible(s) ? s : null;
            if (get == null && set == null) continue;
            var any = (get ?? set)!;
            var index = p.GetIndexParameters();
            var name = index.Length > 0 ? $"this[{string.Join(", ", index.Select(i => Name(i.ParameterType) + " " + i.Name))}]" : p.Name;
            var accessors = (get != null ? "get; " : "") + (set != null ? (IsInit(set) ? "init; " : "set; ") : "");
            yield return $"{Access(any)}{Modifiers(any)}{Name(p.PropertyType)} {name} {{ {accessors}}}";
        }
        foreach (var f in t.GetFields(Declared).Where(f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly))
        {
            var mods = f.IsLiteral ? "const " : (f.IsStatic ? "static " : "") + (f.IsInitOnly ? "readonly " : "");
            var value = f.IsLiteral ? " = " + Literal(f.GetRawConstantValue()) : "";
            yield return $"{(f.IsPublic ? "" : "protected ")}{mods}{Name(f.FieldType)} {f.Name}{value}";
        }
        foreach (var e in t.GetEvents(Declared).Where(e => Visible(e.AddMethod)))
            yield return $"{Access(e.AddMethod!)}{(e.AddMethod!.IsStatic ? "static " : "")}event {Name(e.EventHandlerType!)} {e.Name}";
        foreach (var n in t.GetNestedTypes(BindingFlags.Public).OrderBy(n => n.Name, StringComparer.Ordinal))
            yield return "nested " + n.Name;
    }

    static bool IsInit(MethodInfo set) => set.ReturnParameter.GetRequiredCustomModifiers().Any(m => m.Name == "IsExternalInit");

    static string Access(MethodBase m) => m.IsPublic ? "" : "protected ";

    static string Modifiers(MethodBase m)
        => m.IsStatic ? "static " : m.IsAbstract && !m.DeclaringType!.IsInterface ? "abstract "
            : m.IsVirtual && !m.IsFinal && !m.DeclaringType!.IsInterface ? (m is MethodInfo mi && mi.GetBaseDefinition() != mi ? "override " : "virtual ") : "";

    static string Parameters(MethodBase m) => string.Join(", ", m.GetParameters().Select(p =>
    {
        var prefix = p.IsOut ? "out " : p.ParameterType.IsByRef ? (p.IsIn ? "in " : "ref ") : "";
        if (p.GetCustomAttribute<ParamArrayAttribute>() != null) prefix += "params ";
        var type = p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType;
        var def = p.HasDefaultValue ? " = " + Literal(p.DefaultValue) : "";
        return $"{prefix}{Name(type)} {p.Name}{def}";
    }));

    static string Literal(object? v) => v switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    static string FullName(Type t) => t.IsNested ? FullName(t.DeclaringType!) + "." + Name(t) : (t.Namespace is { } ns ? ns + "." : "") + Name(t);

    /// <summary>A C#-like spelling of a type (generic arguments, arrays, nullable value types, tuples).</summary>
    static string Name(Type t)
    {
        if (t.IsByRef) return Name(t.GetElementType()!);
        if (t.IsArray) return Name(t.GetElementType()!) + "[" + new string(',', t.GetArrayRank() - 1) + "]";
        if (t.IsPointer) return Name(t.GetElementType()!) + "*";
        if (Nullable.GetUnderlyingType(t) is { } u) return Name(u) + "?";
        if (t.IsGenericParameter) return t.Name;
        if (t.IsGenericType)
        {
            var args = t.GetGenericArguments().Select(Name);
            if (t.FullName?.StartsWith("System.ValueTuple", StringComparison.Ordinal) == true) return "(" + string.Join(", ", args) + ")";
            int tick = t.Name.IndexOf('`');
            var bare = tick >= 0 ? t.Name[..tick] : t.Name;
            return bare + "<" + string.Join(", ", args) + ">";
        }
        return t.Name;
    }
}
