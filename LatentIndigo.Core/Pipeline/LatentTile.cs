namespace LatentIndigo.Pipeline;

/// <summary>A rectangular window of the latent (rows <c>Top..Top+Height</c>, columns <c>Left..Left+Width</c>).</summary>
/// <param name="Top">First row.</param>
/// <param name="Left">First column.</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
internal readonly record struct LatentTile(int Top, int Left, int Height, int Width);
