namespace LatentIndigo.Guidance;

/// <summary>What a guidance compares ẑ0 against, and so what the pipeline prepares for it.</summary>
public enum GuidanceObservation
{
    /// <summary>The low-quality image y itself: tiles get the crop of y under each latent tile (8/s pixels per latent pixel).</summary>
    Image,

    /// <summary>The latent of the low-quality image, E(y): the pipeline encodes y once; tiles get its crop (1/s per latent pixel).</summary>
    Latent,
}
