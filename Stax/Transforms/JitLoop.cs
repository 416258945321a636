namespace Stax;

/// <summary>
/// A loop over a <see cref="JitFunction"/> whose results feed its next call: a training step's new
/// state becomes the next step's (donated) state, as PyTorch's in-place <c>optimizer.step()</c> or
/// a JAX loop that donates its state. Made by <see cref="JitFunction.Loop"/>.
/// <para>
/// A plain <see cref="JitFunction.Call(Tensor[], object?)"/> must return new Tensor objects. The
/// loop keeps its results instead and hands a result out only when asked (<see cref="Result"/>):
/// a result it never handed out is reachable by no one but the loop, so when the next call
/// replaces it, the loop gives its Tensor object (and, for a result that is not fed back, its
/// buffer) to the new value. On the CPU a jitted, donating train step then allocates nothing per
/// call. A handed-out tensor never changes: the loop treats it as the user's, and its next call
/// donates it when it is fed back (using it afterwards raises the donated-tensor error, as after
/// <c>Call</c>) and makes a new Tensor object for that result. A loop is for one thread at a time.
/// </para>
/// </summary>
public sealed class JitLoop
{
    readonly JitFunction _f;
    readonly Tensor[] _args;
    readonly int[] _carry;       // per result, the argument it feeds (-1: none)
    readonly bool[] _carried;    // per argument, whether a result feeds it
    Tensor[] _results = [];
    Tensor?[] _spare = [];
    bool[] _owned = [], _handedOut = [];
    bool _ran;

    internal JitLoop(JitFunction f, Tensor[] args, int[] carry)
    {
        _f = f;
        _args = (Tensor[])args.Clone();
        _carry = (int[])carry.Clone();
        _carried = new bool[args.Length];
        var donated = f.DonatedArguments;
        for (int j = 0; j < carry.Length; j++)
        {
            int i = carry[j];
            if (i < 0) continue;
            if (i >= args.Length)
                throw new ArgumentException(
                    $"JitLoop ({f.Name}): result {j} feeds argument {i}, but there are {args.Length} arguments");
            if (_carried[i])
                throw new ArgumentException($"JitLoop ({f.Name}): argument {i} is fed by two results");
            if (donated.IndexOf(i) < 0)
                throw new ArgumentException($"JitLoop ({f.Name}): argument {i} is fed back by result {j} but is not donated; " +
                    "add it to the Jit's donate_argnums (the loop hands the old value's buffer to the new one)");
            _carried[i] = true;
        }
    }

    /// <summary>The function the loop calls.</summary>
    public JitFunction Function => _f;

    /// <summary>Number of results of the latest call (0 before the first).</summary>
    public int ResultCount => _ran ? _results.Length : 0;

    /// <summary>Sets argument <paramref name="index"/> of the next call (one that no result feeds:
    /// inputs such as a batch or a step number).</summary>
    public void SetArgument(int index, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (index < 0 || index >= _args.Length)
            throw new ArgumentOutOfRangeException(nameof(index), $"JitLoop ({_f.Name}): argument {index} of {_args.Length}");
        if (_carried[index])
            throw new InvalidOperationException($"JitLoop ({_f.Name}): argument {index} is fed by a result of the previous call");
        _args[index] = value;
    }

    /// <summary>Calls the function with the current arguments; then feeds the results back.</summary>
    public void Step(object? staticArg = null)
    {
        if (_ran)
            for (int j = 0; j < _results.Length; j++)
            {
                var r = _results[j];
                // Only the loop reaches a result it made and never handed out: its object can carry
                // this call's value of that result. One that is not fed back is dead now: its buffer
                // goes back first, so this call reuses the memory.
                bool mine = _owned[j] && !_handedOut[j];
                _spare[j] = mine ? r : null;
                if (mine && Feeds(j) < 0) r.ReleaseDead(_f.Name);
            }
        _f.CallInto(_args, staticArg, ref _results, ref _spare, ref _owned);
        _ran = true;
        if (_handedOut.Length != _results.Length) _handedOut = new bool[_results.Length];
        else Array.Clear(_handedOut);
        Array.Clear(_spare); // spares not reused are dead (the call marked the donated ones)
        for (int j = 0; j < _results.Length; j++)
            if (Feeds(j) is var i and >= 0) _args[i] = _results[j];
    }

    int Feeds(int result) => result < _carry.Length ? _carry[result] : -1;

    /// <summary>
    /// Result <paramref name="index"/> of the latest call, handed to the caller: this Tensor object
    /// keeps its value (the loop makes a new one for the next value). A fed-back result is donated
    /// by the next call, as with <c>Call</c>: read it before then, or read <see cref="Item{T}"/>.
    /// </summary>
    public Tensor Result(int index)
    {
        CheckResult(index);
        _handedOut[index] = true;
        return _results[index];
    }

    /// <summary>The single element of result <paramref name="index"/> (a loss), read without handing
    /// the tensor out.</summary>
    public T Item<T>(int index) where T : unmanaged
    {
        CheckResult(index);
        return _results[index].Item<T>();
    }

    void CheckResult(int index)
    {
        if (!_ran) throw new InvalidOperationException($"JitLoop ({_f.Name}): no results before the first Step");
        if (index < 0 || index >= _results.Length)
            throw new ArgumentOutOfRangeException(nameof(index), $"JitLoop ({_f.Name}): result {index} of {_results.Length}");
    }
}
