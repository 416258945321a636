using System.Globalization;
using System.Text;

namespace Stax.Examples;

/// <summary>
/// Writes a training curve as a standalone SVG: every step's loss (light), its exponential moving
/// average with bias correction (so the first steps are not pulled toward zero or toward the first
/// value), ticked and labelled axes, and a marker at the end of each epoch with its label (the
/// test metric).
/// </summary>
public static class TrainingPlot
{
    const int W = 720, H = 400, Left = 64, Right = 24, Top = 40, Bottom = 52;

    /// <summary>The bias-corrected exponential moving average of <paramref name="values"/> (Adam's correction).</summary>
    public static double[] Smooth(IReadOnlyList<double> values, double beta = 0.98)
    {
        var result = new double[values.Count];
        double ema = 0, power = 1;
        for (int i = 0; i < values.Count; i++)
        {
            ema = beta * ema + (1 - beta) * values[i];
            power *= beta;
            result[i] = ema / (1 - power);
        }
        return result;
    }

    /// <summary>Writes the plot. <paramref name="marks"/>: (step after which an epoch ended, its label).</summary>
    public static void Write(string path, string title, IReadOnlyList<double> losses, IReadOnlyList<(int Step, string Label)> marks, string yLabel = "loss")
    {
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n<text x=\"{Left}\" y=\"22\" font-size=\"15\">{Escape(title)}</text>\n");
        if (losses.Count >= 2)
        {
            // About 40 averaging windows across the run: smooth enough to read, short enough not to lag.
            var smooth = Smooth(losses, 1 - 1 / Math.Clamp(losses.Count / 40.0, 1, 100));
            // The y range follows the smoothed curve (the raw first steps would squash the rest); raw values above it are clipped.
            double yMax = smooth.Max() * 1.08, yMin = Math.Min(0, losses.Min());
            var (yTicks, yStep) = Ticks(yMin, yMax);
            yMax = Math.Max(yMax, yTicks[^1]);
            int n = losses.Count;
            var (xTicks, _) = Ticks(0, n);
            double X(double step) => Left + (W - Left - Right) * step / n;
            double Y(double v) => Top + (H - Top - Bottom) * (1 - (v - yMin) / (yMax - yMin));
            sb.Append($"<defs><clipPath id=\"area\"><rect x=\"{Left}\" y=\"{Top}\" width=\"{W - Left - Right}\" height=\"{H - Top - Bottom}\"/></clipPath></defs>\n");
            foreach (var t in yTicks)
            {
                sb.Append($"<line x1=\"{Left}\" y1=\"{F(Y(t))}\" x2=\"{W - Right}\" y2=\"{F(Y(t))}\" stroke=\"#eee\"/>");
                sb.Append($"<text x=\"{Left - 6}\" y=\"{F(Y(t) + 4)}\" text-anchor=\"end\">{Number(t, yStep)}</text>\n");
            }
            foreach (var t in xTicks.Where(t => t <= n))
            {
                sb.Append($"<line x1=\"{F(X(t))}\" y1=\"{H - Bottom}\" x2=\"{F(X(t))}\" y2=\"{H - Bottom + 5}\" stroke=\"black\"/>");
                sb.Append($"<text x=\"{F(X(t))}\" y=\"{H - Bottom + 18}\" text-anchor=\"middle\">{Number(t, 1)}</text>\n");
            }
            sb.Append($"<line x1=\"{Left}\" y1=\"{H - Bottom}\" x2=\"{W - Right}\" y2=\"{H - Bottom}\" stroke=\"black\"/>\n");
            sb.Append($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{H - Bottom}\" stroke=\"black\"/>\n");
            sb.Append($"<text x=\"{(Left + W - Right) / 2}\" y=\"{H - 12}\" text-anchor=\"middle\">training step</text>\n");
            sb.Append($"<text x=\"16\" y=\"{(Top + H - Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {(Top + H - Bottom) / 2})\">{Escape(yLabel)}</text>\n");
            for (int k = 0; k < marks.Count; k++)
            {
                double x = X(marks[k].Step);
                sb.Append($"<line x1=\"{F(x)}\" y1=\"{Top}\" x2=\"{F(x)}\" y2=\"{H - Bottom}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>");
                sb.Append($"<text x=\"{F(x - 4)}\" y=\"{Top + 14 + 14 * (k % 2)}\" text-anchor=\"end\" font-size=\"11\" fill=\"#555\">{Escape(marks[k].Label)}</text>\n");
            }
            sb.Append("<g clip-path=\"url(#area)\">\n");
            Polyline(sb, losses, X, Y, "#9ecae1", 0.8);
            Polyline(sb, smooth, X, Y, "#08519c", 2);
            sb.Append("</g>\n");
            sb.Append($"<text x=\"{W - Right - 4}\" y=\"{Top - 8}\" text-anchor=\"end\" font-size=\"11\"><tspan fill=\"#9ecae1\">■</tspan> each step  <tspan fill=\"#08519c\">■</tspan> moving average (bias-corrected)</text>\n");
        }
        sb.Append("</svg>\n");
        File.WriteAllText(path, sb.ToString());
    }

    static void Polyline(StringBuilder sb, IReadOnlyList<double> v, Func<double, double> x, Func<double, double> y, string color, double width)
    {
        sb.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{F(width)}\" points=\"");
        for (int i = 0; i < v.Count; i++) sb.Append(F(x(i + 1))).Append(',').Append(F(y(v[i]))).Append(' ');
        sb.Append("\"/>\n");
    }

    /// <summary>Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about six of them.</summary>
    static (double[] Ticks, double Step) Ticks(double lo, double hi)
    {
        double raw = Math.Max(hi - lo, 1e-12) / 6, p = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * p).First(s => s >= raw);
        var ticks = new List<double>();
        for (double t = Math.Floor(lo / step) * step; t <= hi + step * 0.5; t += step) ticks.Add(Math.Round(t / step) * step);
        return (ticks.ToArray(), step);
    }

    static string Number(double v, double step) => v.ToString(step >= 1 ? "#,0" : step >= 0.1 ? "0.0" : step >= 0.01 ? "0.00" : "0.000", CultureInfo.InvariantCulture);
    static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
    static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
