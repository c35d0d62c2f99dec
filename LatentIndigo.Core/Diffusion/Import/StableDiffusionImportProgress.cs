namespace LatentIndigo.Diffusion;

/// <summary>How far a <see cref="StableDiffusionImport"/> conversion is.</summary>
/// <param name="Model">The model being written (<c>unet</c>, <c>vae_encoder</c>, <c>vae_decoder</c>, <c>text_encoder</c>).</param>
/// <param name="ParametersDone">Parameters written so far, over all models.</param>
/// <param name="ParametersTotal">Parameters to write in all.</param>
public readonly record struct StableDiffusionImportProgress(string Model, long ParametersDone, long ParametersTotal)
{
    /// <summary>The fraction done, 0 to 1.</summary>
    public double Fraction => ParametersTotal == 0 ? 1 : (double)ParametersDone / ParametersTotal;
}
