namespace Stax.Backends;

/// <summary>Backends that pool memory report what they hold (DESIGN: a memory-statistics API per backend).</summary>
public interface IMemoryStatistics
{
    /// <summary>Bytes held by live buffers, bytes kept in the pool for reuse, and the high-water mark of live bytes.</summary>
    (long LiveBytes, long PooledBytes, long HighWaterBytes) MemoryStats { get; }
}
