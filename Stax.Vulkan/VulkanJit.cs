using Stax.Backends;

namespace Stax.Vulkan;

public sealed partial class VulkanBackend
{
    /// <summary>
    /// Prepares a staged program: each call records all of its dispatches into one command buffer
    /// (the backend's lock is held for the whole call, earlier work is submitted first, and the
    /// buffer is submitted without waiting at the end), with one global barrier between dependent
    /// dispatches and no fence per operation. Intermediates and donated arguments go back to the
    /// pool after their last use (queued work that reads them finishes before the memory is
    /// reused), so a call needs memory for its live values only. A program of more than
    /// <see cref="CommandStream.MaxCommands"/> commands spans several command buffers.
    /// </summary>
    public IExecutable Compile(Tracing.Jaxpr program) => new VulkanExecutable(this, program);

    sealed class VulkanExecutable(VulkanBackend backend, Tracing.Jaxpr program) : IExecutable
    {
        readonly InterpretedExecutable _inner = new(program);

        public Tensor[] Run(Tensor[] args) => Run(args, null);

        public Tensor[] Run(Tensor[] args, bool[]? donated)
        {
            lock (backend.Gate)
            {
                backend.CheckAlive();
                backend.Stream.Flush();
                var r = _inner.Run(args, donated);
                backend.Stream.Flush();
                return r;
            }
        }
    }
}
