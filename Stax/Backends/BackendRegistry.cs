namespace Stax.Backends;

/// <summary>
/// The process-wide set of backends and the default one. Backends register themselves (so the
/// core never references Stax.Vulkan); the default is CPU unless <c>STAX_BACKEND</c> names another.
/// </summary>
public static class BackendRegistry
{
    static readonly object Gate = new();
    static readonly Dictionary<string, Func<IBackend>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cpu"] = () => Cpu.CpuBackend.Instance,
    };
    static readonly Dictionary<string, IBackend> Created = new(StringComparer.OrdinalIgnoreCase);
    static IBackend? _default;

    /// <summary>Registers a backend factory under a name (called once, lazily).</summary>
    public static void Register(string name, Func<IBackend> factory)
    {
        lock (Gate) Factories[name] = factory;
    }

    /// <summary>The names of registered backends.</summary>
    public static IReadOnlyList<string> Names { get { lock (Gate) return Factories.Keys.ToArray(); } }

    /// <summary>The backend registered under <paramref name="name"/>.</summary>
    public static IBackend Get(string name)
    {
        lock (Gate)
        {
            if (Created.TryGetValue(name, out var b)) return b;
            if (!Factories.TryGetValue(name, out var f))
                throw new ArgumentException($"Backend '{name}' is not registered; registered: {string.Join(", ", Factories.Keys)}");
            b = f();
            Created[name] = b;
            return b;
        }
    }

    /// <summary>The default backend for new tensors: <c>STAX_BACKEND</c>, else CPU. Settable.</summary>
    public static IBackend Default
    {
        get
        {
            if (_default != null) return _default;
            var env = Environment.GetEnvironmentVariable("STAX_BACKEND");
            var chosen = string.IsNullOrWhiteSpace(env) ? Get("cpu") : Get(env.Trim());
            lock (Gate) _default ??= chosen;
            return _default;
        }
        set { lock (Gate) _default = value; }
    }
}
