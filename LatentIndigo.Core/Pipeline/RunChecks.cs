using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>Where a restore stops on NaN or ∞, naming the stage that produced them.</summary>
internal static class RunChecks
{
    /// <summary>Stops the run where NaN or ∞ first appear (one reduction; the data stays on its device).</summary>
    public static void Finite(Tensor t, string stage)
    {
        using var scope = torch.NewDisposeScope();
        var finite = t.isfinite();
        if (!finite.all().item<bool>())
        {
            throw new NonFiniteValuesException(stage, finite.logical_not().sum().item<long>(), t.numel());
        }
    }

    /// <summary>
    /// Runs a stage whose components check their own intermediates: the VAE refuses NaN input with an
    /// <see cref="ArgumentException"/>, which inside guidance means the INN produced it; report it as this stage's.
    /// </summary>
    public static Tensor Inside(string stage, Func<Tensor> run)
    {
        try
        {
            return run();
        }
        catch (ArgumentException ex) when (ex.Message.Contains("NaN or infinite", StringComparison.Ordinal))
        {
            throw new NonFiniteValuesException(stage, ex);
        }
    }
}
