using System.Globalization;

namespace Mnist;

/// <summary>Command-line flags of the MNIST example.</summary>
sealed class Options
{
    public string Model = "mlp";
    public int? Epochs;
    public int Batch = 0;
    public double LearningRate = 1e-3;
    public string Backend = "cpu";
    public int Limit = 60000;
    public string? Checkpoint;
    public bool Resume;
    public string? Plot;
    public int Seed = 0;
    public bool Distributed;
    public bool ShardOptimizer;

    public int EpochsOrDefault => Epochs ?? (Model == "cnn" ? 3 : 10);
    public int BatchOrDefault => Batch > 0 ? Batch : (Model == "cnn" ? 64 : 128);

    public const string Usage = """
        usage: dotnet run -c Release --project examples/Mnist -- [options]
          --model mlp|cnn        model (default mlp: 784-512-512-10; cnn: conv32-conv64-maxpool-fc128-fc10)
          --epochs N             epochs (default 10 for mlp, 3 for cnn)
          --batch N              batch size (default 128 for mlp, 64 for cnn)
          --lr X                 initial Adam learning rate, decayed x0.75 per epoch (default 0.001)
          --backend cpu|vulkan   where to train (default cpu)
          --limit N              use the first N training images (default 60000)
          --checkpoint PATH      save parameters and optimizer state after every epoch
          --resume               continue from --checkpoint if it exists
          --plot PATH            loss curve as SVG (default loss-<model>.svg)
          --seed N               random seed (default 0)
          --distributed          data-parallel over the processes of an MPI job (mpirun -np N ...):
                                 each rank trains on its 1/N of every global batch of --batch images
          --shard-optimizer      with --distributed: each rank keeps and updates 1/N of Adam's state
                                 (ZeroRedundancyOptimizer); checkpoints keep the unsharded format
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
                case "--model": o.Model = Next(); break;
                case "--epochs": o.Epochs = Int(); break;
                case "--batch": o.Batch = Int(); break;
                case "--lr": o.LearningRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--backend": o.Backend = Next(); break;
                case "--limit": o.Limit = Int(); break;
                case "--checkpoint": o.Checkpoint = Next(); break;
                case "--resume": o.Resume = true; break;
                case "--plot": o.Plot = Next(); break;
                case "--seed": o.Seed = Int(); break;
                case "--distributed": o.Distributed = true; break;
                case "--shard-optimizer": o.ShardOptimizer = true; break;
                case "--help" or "-h": throw new OperationCanceledException();
                default: throw new ArgumentException($"unknown argument '{args[i]}'");
            }
        }
        if (o.Model is not ("mlp" or "cnn")) throw new ArgumentException($"--model must be mlp or cnn, got '{o.Model}'");
        if (o.Backend is not ("cpu" or "vulkan")) throw new ArgumentException($"--backend must be cpu or vulkan, got '{o.Backend}'");
        if (o.ShardOptimizer && !o.Distributed) throw new ArgumentException("--shard-optimizer needs --distributed");
        if (o.EpochsOrDefault < 1 || o.BatchOrDefault < 1 || o.Limit < 1) throw new ArgumentException("--epochs, --batch and --limit must be positive");
        return o;
    }
}
