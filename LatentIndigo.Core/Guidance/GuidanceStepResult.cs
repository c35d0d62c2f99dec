using static TorchSharp.torch;

namespace LatentIndigo.Guidance;

/// <summary>The outcome of <see cref="InnGuidanceStep.Apply"/>: the guided estimate (owned) and the loss terms.</summary>
internal sealed class GuidanceStepResult : IDisposable
{
    internal GuidanceStepResult(Tensor guided, double coarseDistance, double consistency)
    {
        Guided = guided;
        CoarseDistance = coarseDistance;
        Consistency = consistency;
    }

    private bool taken;

    /// <summary>The guided estimate, detached from autograd. Disposed with this object unless taken over.</summary>
    public Tensor Guided { get; }

    /// <summary>‖y − c‖ before the step.</summary>
    public double CoarseDistance { get; }

    /// <summary>‖x_inv − x‖² before the step.</summary>
    public double Consistency { get; }

    /// <summary>Hands <see cref="Guided"/> to the caller, who disposes it; disposing this object then leaves it alone.</summary>
    public Tensor TakeGuided()
    {
        taken = true;
        return Guided;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!taken)
        {
            Guided.Dispose();
        }
    }
}
