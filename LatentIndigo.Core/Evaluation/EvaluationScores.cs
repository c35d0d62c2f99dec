namespace LatentIndigo.Evaluation;

/// <summary>The scores of one restored image against its ground truth.</summary>
/// <param name="PsnrY">PSNR of the Y channel in dB, border cropped by the scale factor (+∞ when identical).</param>
/// <param name="SsimY">SSIM of the Y channel, border cropped by the scale factor.</param>
/// <param name="LrPsnr">LR consistency: PSNR (RGB, dB) of the output re-degraded with the same degradation and seed
/// against the low-quality input; null when the degradation is not known.</param>
/// <param name="Perceptual">The value of the caller's perceptual metric, or null when none was given.</param>
public sealed record EvaluationScores(double PsnrY, double SsimY, double? LrPsnr, double? Perceptual);
