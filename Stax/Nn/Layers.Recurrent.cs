using Stax.Tracing;

namespace Stax.Nn;

/// <summary>
/// A recurrent cell: a leaf module (its parameters are created by the parameter tracer like any
/// module's) plus the step function <c>(carry, x) → (carry, output)</c> that <see cref="Layers.Rnn"/>
/// scans over time, and the zero initial carry. Used on its own as a module, a cell runs one step from
/// the zero carry on an input of shape (..., features) and returns the output (..., hidden).
/// </summary>
public sealed class RecurrentCell
{
    readonly Func<Dictionary<string, Tensor>, Tensor[], Tensor, (Tensor[] Carry, Tensor Output)> _step;

    internal RecurrentCell(string name, int hidden, int carryCount, Func<int, DType, Key, Dictionary<string, Tensor>> init,
        Func<Dictionary<string, Tensor>, Tensor[], Tensor, (Tensor[] Carry, Tensor Output)> step)
    {
        Name = name;
        Hidden = hidden;
        CarryCount = carryCount;
        _step = step;
        Module = Module.Leaf(name,
            (input, key) =>
            {
                if (input.Rank < 1)
                    throw new ArgumentException($"{NameScope.Describe(name)}: expected an input with a feature axis, got {input}");
                var dtype = input.DType.IsFloat() ? input.DType : DType.Float32;
                return (init(input.Shape[-1], dtype, key), null);
            },
            (parameters, x, rng, ctx) =>
            {
                var t = (Tensor)x;
                var p = (Dictionary<string, Tensor>)parameters;
                var batch = new Shape(t.Shape.ToArray()[..^1]);
                return Step(p, InitialCarry(batch, p.Values.First().DType), t, ctx.Path).Output;
            });
    }

    /// <summary>The cell's name (RnnCell, LstmCell, GruCell).</summary>
    public string Name { get; }

    /// <summary>Size of the hidden state and of the output.</summary>
    public int Hidden { get; }

    /// <summary>Number of carried tensors (1 for RNN and GRU: h; 2 for LSTM: h and c).</summary>
    public int CarryCount { get; }

    /// <summary>The cell as a leaf module.</summary>
    public Module Module { get; }

    /// <summary>The cell as a leaf module.</summary>
    public static implicit operator Module(RecurrentCell cell) => cell.Module;

    /// <summary>The zero initial carry for inputs with batch dimensions <paramref name="batch"/>.</summary>
    public Tensor[] InitialCarry(Shape batch, DType dtype = DType.Float32)
    {
        var shape = new Shape(batch.ToArray().Append(Hidden).ToArray());
        return Enumerable.Range(0, CarryCount).Select(_ => Tensor.Zeros(shape, dtype)).ToArray();
    }

    /// <summary>One step: the new carry and the output from the parameters, the carry and an input (..., features).</summary>
    public (Tensor[] Carry, Tensor Output) Step(object parameters, Tensor[] carry, Tensor x) => Step(parameters, carry, x, Name);

    (Tensor[] Carry, Tensor Output) Step(object parameters, Tensor[] carry, Tensor x, string where)
    {
        var p = parameters as Dictionary<string, Tensor>
            ?? throw new ArgumentException($"{where}: expected the cell's parameter dictionary, got {parameters?.GetType().Name ?? "null"}");
        if (carry.Length != CarryCount)
            throw new ArgumentException($"{where}: expected {CarryCount} carried tensors, got {carry.Length}");
        int f = p["wi"].Shape[0];
        if (x.Rank < 1 || x.Shape[-1] != f)
            throw new ArgumentException($"{where}: expected inputs with {f} features (last axis), got {x.Shape}");
        return _step(p, carry, x);
    }
}

public static partial class Layers
{
    static Dictionary<string, Tensor> GateParams(int inDim, int hidden, int gates, DType dtype, Key key, Initializer? wInit, Initializer? hInit, bool twoBiases)
    {
        var (k1, k2) = key;
        var wi = (wInit ?? Initializers.GlorotUniform())(k1, new Shape(inDim, gates * hidden), dtype);
        var wh = (hInit ?? Initializers.GlorotUniform())(k2, new Shape(hidden, gates * hidden), dtype);
        var p = new Dictionary<string, Tensor> { ["wi"] = wi, ["wh"] = wh };
        if (twoBiases)
        {
            p["bi"] = Tensor.Zeros(new Shape(gates * hidden), dtype);
            p["bh"] = Tensor.Zeros(new Shape(gates * hidden), dtype);
        }
        else p["b"] = Tensor.Zeros(new Shape(gates * hidden), dtype);
        return p;
    }

    static Tensor Gate(Tensor z, int k, int hidden) => Lax.SliceInDim(z, k * hidden, (k + 1) * hidden, 1, z.Rank - 1);

    static void CheckHidden(string who, int hidden)
    {
        if (hidden <= 0) throw new ArgumentException($"{who}: hidden size must be positive, got {hidden}");
    }

    /// <summary>
    /// Elman RNN cell: <c>h' = tanh(x·wi + h·wh + b)</c>, output h'. Parameters
    /// <c>{"wi": (features, hidden), "wh": (hidden, hidden), "b": (hidden,)}</c>.
    /// </summary>
    public static RecurrentCell RnnCell(int hidden, Initializer? inputInit = null, Initializer? recurrentInit = null)
    {
        CheckHidden("RnnCell", hidden);
        return new RecurrentCell("RnnCell", hidden, 1,
            (f, d, k) => GateParams(f, hidden, 1, d, k, inputInit, recurrentInit, false),
            (p, c, x) =>
            {
                var h = Np.Tanh(Np.Matmul(x, p["wi"]) + Np.Matmul(c[0], p["wh"]) + p["b"]);
                return (new[] { h }, h);
            });
    }

    /// <summary>
    /// LSTM cell (gates in the order input, forget, cell, output; the forget-gate bias starts at 1):
    /// <c>z = x·wi + h·wh + b; i, f, o = σ(z_i), σ(z_f), σ(z_o); g = tanh(z_g); c' = f·c + i·g; h' = o·tanh(c')</c>,
    /// carry (h, c), output h'. Parameters <c>{"wi": (features, 4·hidden), "wh": (hidden, 4·hidden), "b": (4·hidden,)}</c>.
    /// </summary>
    public static RecurrentCell LstmCell(int hidden, Initializer? inputInit = null, Initializer? recurrentInit = null)
    {
        CheckHidden("LstmCell", hidden);
        return new RecurrentCell("LstmCell", hidden, 2,
            (f, d, k) =>
            {
                var p = GateParams(f, hidden, 4, d, k, inputInit, recurrentInit, false);
                var b = new double[4 * hidden];
                for (int i = hidden; i < 2 * hidden; i++) b[i] = 1;
                p["b"] = Tensor.FromArray(b, 4 * hidden).AsType(d);
                return p;
            },
            (p, c, x) =>
            {
                var z = Np.Matmul(x, p["wi"]) + Np.Matmul(c[0], p["wh"]) + p["b"];
                var i = Np.Sigmoid(Gate(z, 0, hidden));
                var fg = Np.Sigmoid(Gate(z, 1, hidden));
                var g = Np.Tanh(Gate(z, 2, hidden));
                var o = Np.Sigmoid(Gate(z, 3, hidden));
                var cell = fg * c[1] + i * g;
                var h = o * Np.Tanh(cell);
                return (new[] { h, cell }, h);
            });
    }

    /// <summary>
    /// GRU cell (PyTorch's equations, gates in the order reset, update, new):
    /// <c>r = σ(x·wi_r + bi_r + h·wh_r + bh_r); u = σ(... update ...); n = tanh(x·wi_n + bi_n + r·(h·wh_n + bh_n)); h' = (1 - u)·n + u·h</c>.
    /// Parameters <c>{"wi": (features, 3·hidden), "wh": (hidden, 3·hidden), "bi": (3·hidden,), "bh": (3·hidden,)}</c>.
    /// </summary>
    public static RecurrentCell GruCell(int hidden, Initializer? inputInit = null, Initializer? recurrentInit = null)
    {
        CheckHidden("GruCell", hidden);
        return new RecurrentCell("GruCell", hidden, 1,
            (f, d, k) => GateParams(f, hidden, 3, d, k, inputInit, recurrentInit, true),
            (p, c, x) =>
            {
                var h = c[0];
                var zi = Np.Matmul(x, p["wi"]) + p["bi"];
                var zh = Np.Matmul(h, p["wh"]) + p["bh"];
                var r = Np.Sigmoid(Gate(zi, 0, hidden) + Gate(zh, 0, hidden));
                var u = Np.Sigmoid(Gate(zi, 1, hidden) + Gate(zh, 1, hidden));
                var n = Np.Tanh(Gate(zi, 2, hidden) + r * Gate(zh, 2, hidden));
                var hn = (1 - u) * n + u * h;
                return (new[] { hn }, hn);
            });
    }

    /// <summary>
    /// Runs <paramref name="cell"/> over the time axis (<paramref name="timeAxis"/>, 1 for batch-first
    /// inputs (batch, time, features)) with <see cref="ControlFlow.Scan{TCarry, TX, TY}"/>, from the
    /// cell's zero carry; returns the outputs at every step with the same layout (..., hidden).
    /// <paramref name="reverse"/> runs from the last step to the first (outputs stay in time order).
    /// The module's parameters are the cell's.
    /// </summary>
    public static Module Rnn(RecurrentCell cell, bool reverse = false, int timeAxis = 1)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return Module.Create((p, x, rng) => RunCell(cell, p, x, reverse, timeAxis, "Rnn"), "Rnn");
    }

    /// <summary>
    /// A bidirectional RNN: one copy of <paramref name="cell"/> (own parameters, slot 0) runs forwards,
    /// another (slot 1) backwards; their outputs are concatenated on the feature axis (2·hidden).
    /// </summary>
    public static Module Bidirectional(RecurrentCell cell, int timeAxis = 1)
    {
        ArgumentNullException.ThrowIfNull(cell);
        return Module.Create((p, x, rng) =>
        {
            var (pf, pb) = p;
            var fwd = RunCell(cell, pf, x, false, timeAxis, "Bidirectional");
            var bwd = RunCell(cell, pb, x, true, timeAxis, "Bidirectional");
            return Np.Concatenate(new[] { fwd, bwd }, -1);
        }, "Bidirectional");
    }

    static Tensor RunCell(RecurrentCell cell, Slot p, Tensor x, bool reverse, int timeAxis, string who)
    {
        if (x.Rank < 2)
            throw new ArgumentException($"{NameScope.Describe(who)}: expected an input with a time axis and a feature axis, e.g. (batch, time, features), got {x.Shape}");
        int t = x.Shape.Axis(timeAxis, who);
        if (t == x.Rank - 1)
            throw new ArgumentException($"{NameScope.Describe(who)}: the time axis ({timeAxis}) must not be the feature (last) axis of {x.Shape}");
        var perm = new[] { t }.Concat(Enumerable.Range(0, x.Rank).Where(i => i != t)).ToArray();
        var xs = Lax.Transpose(x, perm);                              // (time, batch..., features)
        var stepShape = new Shape(xs.Shape.ToArray()[1..]);
        var (parameters, _) = p.Leaf(cell.Module, new AbstractValue(stepShape, x.DType));
        var dtype = ((Dictionary<string, Tensor>)parameters).Values.First().DType;
        var init = cell.InitialCarry(new Shape(stepShape.ToArray()[..^1]), dtype);
        var (_, ys) = ControlFlow.Scan<Tensor[], Tensor, Tensor>((c, xt) => cell.Step(parameters, c, xt), init, xs, reverse: reverse);
        var inverse = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        return Lax.Transpose(ys, inverse);                           // back to the input's layout
    }
}
