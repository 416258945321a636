using System.Globalization;
using System.Text;

namespace Mnist;

/// <summary>Writes a training-loss curve as a small standalone SVG.</summary>
static class LossPlot
{
    public static void Write(string path, IReadOnlyList<double> losses, IReadOnlyList<int> epochEnds, string title)
    {
        const int W = 640, H = 360, L = 50, R = 20, T = 30, B = 40;
        string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append($"<rect width=\"{W}\" height=\"{H}\" fill=\"white\"/>\n<text x=\"{L}\" y=\"20\">{title}</text>\n");
        if (losses.Count > 1)
        {
            double max = losses.Max(), min = Math.Min(0, losses.Min());
            double X(int i) => L + (W - L - R) * i / (double)(losses.Count - 1);
            double Y(double v) => T + (H - T - B) * (1 - (v - min) / Math.Max(1e-12, max - min));
            sb.Append($"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"black\"/>\n");
            sb.Append($"<line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"black\"/>\n");
            sb.Append($"<text x=\"5\" y=\"{F(Y(max) + 4)}\">{F(max)}</text><text x=\"5\" y=\"{F(Y(min) + 4)}\">{F(min)}</text>\n");
            foreach (var e in epochEnds)
                sb.Append($"<line x1=\"{F(X(Math.Min(e, losses.Count - 1)))}\" y1=\"{T}\" x2=\"{F(X(Math.Min(e, losses.Count - 1)))}\" y2=\"{H - B}\" stroke=\"#ccc\"/>\n");
            sb.Append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
            for (int i = 0; i < losses.Count; i++) sb.Append(F(X(i))).Append(',').Append(F(Y(losses[i]))).Append(' ');
            sb.Append("\"/>\n");
            sb.Append($"<text x=\"{W / 2 - 40}\" y=\"{H - 10}\">training step (x{Math.Max(1, 1)})</text>\n");
        }
        sb.Append("</svg>\n");
        File.WriteAllText(path, sb.ToString());
    }
}
