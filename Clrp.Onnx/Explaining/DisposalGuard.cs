namespace Clrp.Onnx.Explaining;

/// <summary>
/// Makes an object that owns native resources (ONNX Runtime sessions) safe to dispose while other threads use it:
/// every public member enters the guard (<see cref="Enter"/>, or <see cref="ThrowIfDisposed"/> for members that touch
/// no native state) and gets <see cref="ObjectDisposedException"/> once <see cref="TryBeginDispose"/> has run;
/// <see cref="TryBeginDispose"/> itself waits until the calls already inside have left, so native memory is never
/// released under a running call. Without it an Explain racing a Dispose crashed the process (SIGSEGV in 3 of 8 runs,
/// issue 12) or read a freed session.
/// </summary>
internal sealed class DisposalGuard
{
    // A plain monitor object: Wait/PulseAll need one (System.Threading.Lock has no condition variable).
    private readonly object _gate = new();
    private readonly string _owner;
    private int _active;
    private bool _disposed;

    /// <param name="owner">The type name the <see cref="ObjectDisposedException"/> names.</param>
    public DisposalGuard(string owner) => _owner = owner;

    /// <summary>True once disposal began.</summary>
    public bool IsDisposed
    {
        get
        {
            lock (_gate)
            {
                return _disposed;
            }
        }
    }

    /// <summary>Throws <see cref="ObjectDisposedException"/> after disposal began.</summary>
    public void ThrowIfDisposed()
    {
        if (IsDisposed)
        {
            throw new ObjectDisposedException(_owner, $"this {_owner} was disposed; create a new one (ML.NET: a disposed PredictionEngine disposes the transformers of its model).");
        }
    }

    /// <summary>Returns <paramref name="value"/>, or throws <see cref="ObjectDisposedException"/> after disposal began.</summary>
    public T Checked<T>(T value)
    {
        ThrowIfDisposed();
        return value;
    }

    /// <summary>Marks a call in progress until the returned lease is disposed.</summary>
    /// <exception cref="ObjectDisposedException">Disposal already began.</exception>
    public Lease Enter()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _active++;
                return new Lease(this);
            }
        }

        ThrowIfDisposed();
        throw new InvalidOperationException("unreachable");
    }

    /// <summary>
    /// Marks the owner disposed and waits for the calls inside to finish. Returns false when disposal had already
    /// begun (Dispose is idempotent); the caller releases its resources only on true.
    /// </summary>
    public bool TryBeginDispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return false;
            }

            _disposed = true;
            while (_active > 0)
            {
                Monitor.Wait(_gate);
            }

            return true;
        }
    }

    private void Exit()
    {
        lock (_gate)
        {
            if (--_active == 0)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>One call inside the guard.</summary>
    public readonly struct Lease : IDisposable
    {
        private readonly DisposalGuard? _guard;

        internal Lease(DisposalGuard guard) => _guard = guard;

        public void Dispose() => _guard?.Exit();
    }
}
