using System.Collections.Concurrent;

namespace Clrp.Onnx.Tensors;

/// <summary>
/// Large float buffers reused from one explanation to the next, by exact length. An explanation of a
/// 224² network allocates hundreds of megabytes of short-lived tensors (captured activations, forward
/// products, relevance); left to the GC, each explanation touches fresh memory, and on this project's machine
/// the page faults alone cost more than the arithmetic (measured on VGG16: 1.7 s of system time in a 3 s
/// explanation, 0.03 s once the same buffers are reused). Sizes repeat exactly between explanations of one
/// model and input shape, so an exact-length pool serves every request after the first.
/// <para>
/// Buffers under <see cref="MinPooledLength"/> floats are left to the GC (gen0 handles them cheaply). Of each length
/// the pool keeps as many free buffers as were ever rented at once (an explanation needs that many again; buffers of a
/// length nobody rents, e.g. operators' own, are dropped), and at most <see cref="CapacityBytes"/> in all. Returning a
/// buffer that is already in the pool is ignored, so a double return cannot hand one buffer to two renters.
/// Thread-safe.
/// </para>
/// </summary>
internal sealed class BufferPool
{
    /// <summary>Buffers from this length up are pooled: 128 KiB, near the large-object heap's threshold.</summary>
    public const int MinPooledLength = 32 * 1024;

    private readonly ConcurrentDictionary<int, Slot> _slots = new();
    private readonly ConcurrentDictionary<float[], byte> _inPool = new(ReferenceEqualityComparer.Instance);
    private long _freeBytes;

    public BufferPool(long capacityBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacityBytes);
        CapacityBytes = capacityBytes;
    }

    /// <summary>The most bytes of free buffers the pool keeps.</summary>
    public long CapacityBytes { get; }

    /// <summary>Bytes of free buffers held now.</summary>
    public long FreeBytes => Interlocked.Read(ref _freeBytes);

    /// <summary>A tensor of <paramref name="shape"/>, zero-filled when <paramref name="clear"/> (a new buffer always is).</summary>
    public Tensor Rent(int[] shape, bool clear = true)
    {
        int length = Tensor.CheckedCount(shape);
        if (length < MinPooledLength)
        {
            return new Tensor(shape);
        }

        Slot slot = _slots.GetOrAdd(length, _ => new Slot());
        slot.Rented();
        if (slot.Free.TryTake(out float[]? buffer))
        {
            _inPool.TryRemove(buffer, out _);
            Interlocked.Add(ref _freeBytes, -(long)length * sizeof(float));
            if (clear)
            {
                Array.Clear(buffer);
            }

            return new Tensor(buffer, shape);
        }

        return new Tensor(shape);
    }

    /// <summary>Gives <paramref name="tensor"/>'s buffer back. The caller must hold no other reference to it.</summary>
    public void Return(Tensor? tensor)
    {
        if (tensor is null || tensor.Length < MinPooledLength || !_slots.TryGetValue(tensor.Length, out Slot? slot))
        {
            return; // small, or a length nobody rents
        }

        slot.Returned();
        long bytes = (long)tensor.Length * sizeof(float);
        if (slot.Free.Count >= slot.MostOutstanding)
        {
            return;
        }

        if (Interlocked.Add(ref _freeBytes, bytes) > CapacityBytes || !_inPool.TryAdd(tensor.Data, 0))
        {
            Interlocked.Add(ref _freeBytes, -bytes);
            return;
        }

        slot.Free.Add(tensor.Data);
    }

    /// <summary>Drops every free buffer (the GC reclaims them).</summary>
    public void Clear()
    {
        _slots.Clear();
        _inPool.Clear();
        Interlocked.Exchange(ref _freeBytes, 0);
    }

    /// <summary>The free buffers of one length and how many of that length were rented at once, at most.</summary>
    private sealed class Slot
    {
        private int _outstanding;
        private int _mostOutstanding;

        public ConcurrentBag<float[]> Free { get; } = [];

        public int MostOutstanding => Volatile.Read(ref _mostOutstanding);

        public void Rented()
        {
            int now = Interlocked.Increment(ref _outstanding);
            int most;
            while (now > (most = Volatile.Read(ref _mostOutstanding)) && Interlocked.CompareExchange(ref _mostOutstanding, now, most) != most)
            {
            }
        }

        public void Returned()
        {
            // Buffers the pool did not hand out come back too (operators' own); never count below zero.
            int current;
            while ((current = Volatile.Read(ref _outstanding)) > 0 && Interlocked.CompareExchange(ref _outstanding, current - 1, current) != current)
            {
            }
        }
    }
}
