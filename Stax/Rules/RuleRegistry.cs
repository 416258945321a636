namespace Stax.Rules;

/// <summary>
/// Installs the transformation rules (JVP, transpose, batching) on the primitives. Each family
/// registers its rules in its own file; the registry runs once, before the first transformation.
/// </summary>
internal static partial class RuleRegistry
{
    static RuleRegistry()
    {
        RegisterElementwise();
        RegisterConversion();
        RegisterReshaping();
        RegisterSlicing();
        RegisterIndexing();
        RegisterReduceSum();
        RegisterSow();
        RegisterReduction();
        RegisterSorting();
        RegisterDot();
        RegisterWindow();
        RegisterControl();
        RegisterRandom();
        RegisterCustom();
        RegisterControlFlow();
    }

    static partial void RegisterElementwise();
    static partial void RegisterConversion();
    static partial void RegisterReshaping();
    static partial void RegisterSlicing();
    static partial void RegisterIndexing();
    static partial void RegisterReduction();
    static partial void RegisterSorting();
    static partial void RegisterDot();
    static partial void RegisterWindow();
    static partial void RegisterControl();
    static partial void RegisterRandom();
    static partial void RegisterCustom();
    static partial void RegisterControlFlow();

    /// <summary>Forces the static constructor (cheap after the first call).</summary>
    public static void Ensure() { }
}
