namespace Stax.Tests.Fuzz;

/// <summary>
/// The test assembly's entry point (it is built as an executable). With <c>--read FORMAT FILE...</c>
/// it loads each file in this process and prints one line per file: <c>ok</c>, <c>rejected</c> with
/// the exception, or <c>BUG</c>. Tests run it as a child process, so that a failure no catch can
/// stop (a stack overflow) is seen as the child's death instead of killing the test run.
/// </summary>
public static class ReaderHost
{
    public static int Main(string[] args)
    {
        if (args.Length < 3 || args[0] != "--read")
        {
            Console.Error.WriteLine("usage: Stax.Tests --read FORMAT FILE...");
            return 2;
        }
        int bugs = 0;
        foreach (var path in args.Skip(2))
        {
            try
            {
                FileFormats.Load(args[1], path);
                Console.WriteLine($"ok {path}");
            }
            catch (Exception e) when (FileFormats.IsCleanRejection(e))
            {
                Console.WriteLine($"rejected {path}: {e.GetType().Name}");
            }
            catch (Exception e)
            {
                bugs++;
                Console.WriteLine($"BUG {path}: {e.GetType().Name}: {e.Message}");
            }
        }
        return bugs == 0 ? 0 : 1;
    }
}
