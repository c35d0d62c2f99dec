namespace LatentIndigo.Pipeline;

/// <summary>
/// A stage of the restoration produced NaN or infinite values. It is raised where they first appear (the initial
/// estimate, the VAE encoder, each UNet output, each guidance step, the sampler update, the VAE decoder, the INN
/// finish), so <see cref="Stage"/> names the component to suspect. Nothing is written.
/// </summary>
public sealed class NonFiniteValuesException : LatentIndigoException
{
    /// <summary>Creates the exception for a stage, described in words.</summary>
    public NonFiniteValuesException(string stage, long count, long total)
        : base($"The {stage} produced {count:N0} NaN or infinite value(s) out of {total:N0}; {Advice}")
    {
        Stage = stage;
    }

    /// <summary>Creates the exception for a stage whose component reported the non-finite values itself.</summary>
    public NonFiniteValuesException(string stage, Exception inner)
        : base($"The {stage} produced NaN or infinite values ({inner.Message}); {Advice}", inner)
    {
        Stage = stage;
    }

    private const string Advice = "the restoration was stopped and nothing was written. " +
        "Likely causes: a damaged or fp16-overflowing model export (check it with 'latent-indigo sd-check', or use an fp32 export), " +
        "INN weights from a diverged training, or a guidance step size too large for this model.";

    /// <summary>The stage whose output was not finite, in words (for example "UNet output at step 3/28, tile 1/4").</summary>
    public string Stage { get; }
}
