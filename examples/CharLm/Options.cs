using System.Globalization;

namespace CharLm;

/// <summary>Command-line flags of the character-level language model example.</summary>
sealed class Options
{
    public int Steps = 600;
    public int Batch = 32;
    public int Context = 64;
    public int Width = 128;
    public int Heads = 4;
    public int Depth = 2;
    public double LearningRate = 3e-3;
    public string Backend = "cpu";
    public string? Checkpoint;
    public bool Resume;
    public string? Plot;
    public int Sample = 400;
    public int EvalEvery = 100;
    public int Seed = 0;

    public const string Usage = """
        usage: dotnet run -c Release --project examples/CharLm -- [options]
          --steps N              training steps (default 600)
          --batch N              sequences per step (default 32)
          --context N            characters per sequence (default 64)
          --width N              model width (default 128)
          --heads N              attention heads (default 4)
          --depth N              transformer blocks (default 2)
          --lr X                 peak learning rate of the warmup-cosine schedule (default 0.003)
          --backend cpu|vulkan   where to train (default cpu)
          --checkpoint PATH      save the train state every --eval-every steps and at the end
          --resume               continue from --checkpoint if it exists
          --plot PATH            loss curve as SVG (default loss-charlm.svg)
          --sample N             characters to generate at the end (default 400)
          --eval-every N         validation loss every N steps (default 100)
          --seed N               random seed (default 0)
        """;

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--steps": o.Steps = Int(); break;
                case "--batch": o.Batch = Int(); break;
                case "--context": o.Context = Int(); break;
                case "--width": o.Width = Int(); break;
                case "--heads": o.Heads = Int(); break;
                case "--depth": o.Depth = Int(); break;
                case "--lr": o.LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--backend": o.Backend = Next(); break;
                case "--checkpoint": o.Checkpoint = Next(); break;
                case "--resume": o.Resume = true; break;
                case "--plot": o.Plot = Next(); break;
                case "--sample": o.Sample = Int(); break;
                case "--eval-every": o.EvalEvery = Int(); break;
                case "--seed": o.Seed = Int(); break;
                case "--help" or "-h": throw new OperationCanceledException();
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (o.Backend is not ("cpu" or "vulkan")) throw new ArgumentException($"--backend must be cpu or vulkan, got '{o.Backend}'");
        if (o.Steps < 1 || o.Batch < 1 || o.Context < 2 || o.Width < 1 || o.Heads < 1 || o.Depth < 1 || o.EvalEvery < 1 || o.Sample < 0)
            throw new ArgumentException("--steps, --batch, --width, --heads, --depth and --eval-every must be positive, --context at least 2");
        if (o.Width % o.Heads != 0) throw new ArgumentException($"--width {o.Width} must be a multiple of --heads {o.Heads}");
        return o;
    }
}
