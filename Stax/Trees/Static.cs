namespace Stax;

/// <summary>
/// Marks a value as a static leaf of a tree (JAX's <c>static_argnums</c> for one leaf): it is kept
/// in the <see cref="TreeDef"/> and compared with <c>Equals</c>, never traced, so a jitted function
/// sees the C# value and retraces for each new one. Tree <c>Jit</c> traces plain C# numbers in
/// slots that can hold a tensor; wrap a number in <c>Static</c> when the function needs it as a
/// C# value (a layer count, a loop bound): <c>new object?[] { parameters, new Static&lt;int&gt;(3) }</c>.
/// </summary>
/// <param name="Value">The static value (give it value equality).</param>
public readonly record struct Static<T>(T Value);
