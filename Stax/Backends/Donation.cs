namespace Stax.Backends;

/// <summary>
/// Passes a jitted call's donated arguments from <see cref="JitFunction.Call(Tensor[], object?)"/> to the executable
/// that runs it, on this thread only and only for that call's own program (a nested or staged jit
/// equation with other parameters never sees the offer).
/// </summary>
internal static class Donation
{
    [ThreadStatic] static (JitParams Params, bool[] Mask)? _offer;

    /// <summary>Offers <paramref name="mask"/> (one flag per program input) until disposed.</summary>
    public static Undo Offer(JitParams p, bool[] mask)
    {
        var old = _offer;
        _offer = (p, mask);
        return new Undo(old);
    }

    /// <summary>Takes the offer for <paramref name="p"/>, if any (once).</summary>
    public static bool[]? Take(JitParams p)
    {
        if (_offer is { } o && ReferenceEquals(o.Params, p))
        {
            _offer = null;
            return o.Mask;
        }
        return null;
    }

    /// <summary>Restores the previous offer (a struct: offering allocates nothing).</summary>
    public readonly struct Undo((JitParams, bool[])? old) : IDisposable
    {
        readonly (JitParams, bool[])? _old = old;

        /// <summary>Puts the previous offer back.</summary>
        public void Dispose() => _offer = _old;
    }
}
