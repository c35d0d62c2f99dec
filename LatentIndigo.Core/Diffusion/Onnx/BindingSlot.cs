using System.Diagnostics;

namespace LatentIndigo.Diffusion;

/// <summary>
/// The bound buffers of one model wrapper (<see cref="UnetModel"/>, the VAE halves, the text encoder) and the rule that
/// they serve one call at a time. The ONNX Runtime session underneath is shared and runs calls from many slots at once;
/// a restore gets slots of its own (<see cref="StableDiffusionModels.CreateWorker"/>), so concurrent restores never
/// share a buffer. The slot also adds up the wall time of its calls: the one place model time is measured.
/// </summary>
internal sealed class BindingSlot : IDisposable
{
    private readonly ModelSession session;
    private int busy;
    private long elapsedTicks;

    public BindingSlot(ModelSession session) => this.session = session;

    /// <summary>The shape-keyed bindings of this slot.</summary>
    public ShapeBindingCache Bindings { get; } = new();

    /// <summary>Wall time spent inside calls through this slot (Stopwatch resolution).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref elapsedTicks));

    /// <summary>
    /// Claims the slot for one call (fill buffers, run, read outputs). A second caller while it is claimed gets an
    /// <see cref="InvalidOperationException"/>: the buffers are this slot's.
    /// </summary>
    public Scope Enter()
    {
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                $"The {session.Name} model is already running a call on another thread with these buffers. The models of a StableDiffusionModels instance run one direct call per model at a time; RestorationPipeline gives each concurrent restore buffers of its own.");
        }
        try
        {
            return new Scope(this, session.Enter(), Stopwatch.GetTimestamp());
        }
        catch
        {
            Volatile.Write(ref busy, 0);
            throw;
        }
    }

    public void Dispose() => Bindings.Dispose();

    /// <summary>Releases the claim and the session's in-flight count, and books the call's time.</summary>
    public readonly struct Scope(BindingSlot owner, ModelSession.CallScope call, long started) : IDisposable
    {
        public void Dispose()
        {
            Interlocked.Add(ref owner.elapsedTicks, Stopwatch.GetTimestamp() - started);
            call.Dispose();
            Volatile.Write(ref owner.busy, 0);
        }
    }
}
