using Stax.Nn;
using Stax.Optim;
using static Stax.Nn.Layers;

namespace Stax.Tests.Nn;

/// <summary>
/// A 2-layer decoder-only transformer written only from the library's parts (embedding, rotary
/// causal self-attention, LayerNorm, MLP, dropout, tied output), trained by a jitted step under
/// TrainState on a tiny repeating sequence.
/// </summary>
public class TransformerTests
{
    const int Vocab = 8, Width = 32, Heads = 4, Depth = 2, Length = 16, Batch = 4;

    static Module DecoderOnly()
    {
        var init = Initializers.TruncatedNormal(0.02);
        var embed = Embedding(Vocab, Width);
        var blocks = Enumerable.Range(0, Depth).Select(_ => (
            Ln1: LayerNorm(), Attn: MultiHeadDotProductAttention(Heads, rotary: true, dropoutRate: 0.1), Ln2: LayerNorm(),
            Up: Dense(4 * Width, init), Down: Dense(Width, init), Drop: Dropout(rate: 0.1))).ToArray();
        var lnF = RMSNorm();
        return Module.Create((p, tokens) =>
        {
            var mask = MakeCausalMask(tokens);
            var h = embed.Call(p["embed"], tokens);
            for (int i = 0; i < Depth; i++)
            {
                var (b, q) = (blocks[i], p["blocks"][i]);
                h = h + b.Drop.Call(q["drop_attn"], b.Attn.Call(q["attn"], b.Ln1.Call(q["ln1"], h), mask: mask));
                var m = b.Down.Call(q["down"], Activations.Gelu(b.Up.Call(q["up"], b.Ln2.Call(q["ln2"], h))));
                h = h + b.Drop.Call(q["drop_mlp"], m);
            }
            return embed.Attend(p["embed"], lnF.Call(p["ln_f"], h));     // tied output projection
        }, "DecoderOnly");
    }

    [Fact]
    public void TwoLayerDecoderTrainsUnderAJittedTrainStateStep()
    {
        var model = DecoderOnly();
        // Windows of 0 1 2 ... 7 0 1 ... at different offsets: the next token is (token + 1) mod 8.
        var seq = new int[Batch, Length + 1];
        for (int b = 0; b < Batch; b++) for (int t = 0; t <= Length; t++) seq[b, t] = (3 * b + t) % Vocab;
        var all = Tensor.FromArray(seq);
        var x = all[.., ..^1];
        var y = all[.., 1..];
        var (logitsSpec, parameters) = model.Initialize(Rng.Key(0), x);
        Assert.Equal(new Shape(Batch, Length, Vocab), logitsSpec.Shape);
        var names = Tree.FlattenWithPaths(parameters).Leaves.Select(l => LayerCheck.Name(l.Path)).ToArray();
        Assert.Contains("embed/embedding", names);
        Assert.Contains("blocks/1/attn/query/kernel", names);
        Assert.DoesNotContain(names, n => n.Contains("drop"));

        var tx = Optax.Chain(Optax.ClipByGlobalNorm(1.0), Optax.AdamW(Optax.WarmupCosineDecaySchedule(0.0, 1e-2, 5, 60), weightDecay: 1e-4));
        var state = TrainState.Create(parameters, tx);
        var step = Transforms.Jit((TrainState s, Tensor xb, Tensor yb, Key key) =>
        {
            var (loss, grads) = Transforms.ValueAndGrad((object p) =>
                Losses.SoftmaxCrossEntropy(model.Apply(p, xb, training: true, rng: Rng.FoldIn(key, s.Step)), yb))(s.Params!);
            return (s.ApplyGradients(grads), loss);
        }, "train_step", donateArgnums: 0);
        double EvalLoss(TrainState s) => Losses.SoftmaxCrossEntropy(model.Apply(s.Params!, x, training: false), y).Item<float>();

        double before = EvalLoss(state);
        var losses = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            (state, var loss) = step(state, x, y, Rng.Key(1));
            losses.Add(loss.Item<float>());
        }
        double after = EvalLoss(state);
        Assert.Equal(40, state.Step.Item<int>());
        Assert.True(losses.Skip(35).Average() < 0.5 * losses.Take(5).Average(), $"training loss {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.True(after < 0.5 * before, $"eval loss {before:F3} -> {after:F3}");
        // Dropout used the step key: training outputs differ from inference, and between steps.
        var train1 = model.Apply(state.Params!, x, training: true, rng: Rng.Key(5)).ToDoubleArray();
        var train2 = model.Apply(state.Params!, x, training: true, rng: Rng.Key(6)).ToDoubleArray();
        Assert.NotEqual(train1, train2);
    }
}
