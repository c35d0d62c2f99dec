namespace LatentIndigo.Degradations;

/// <summary>
/// The published parameters of Real-ESRGAN's second-order degradation (Wang et al., ICCVW 2021; the
/// <c>train_realesrgan_x4plus</c> configuration). Ranges are [low, high]; probabilities are per image.
/// </summary>
internal static class RealEsrganSettings
{
    // Blur kernels: sizes 7, 9, ..., 21, zero-padded to 21.
    public const int KernelPadSize = 21;
    public static readonly int[] KernelSizes = [7, 9, 11, 13, 15, 17, 19, 21];
    public static readonly string[] KernelTypes = ["iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso"];
    public static readonly double[] KernelProbabilities = [0.45, 0.25, 0.12, 0.03, 0.12, 0.03];

    // First degradation.
    public const double SincProbability1 = 0.1;
    public static readonly (double Lo, double Hi) BlurSigma1 = (0.2, 3);
    public static readonly (double Lo, double Hi) BetaGeneralized1 = (0.5, 4);
    public static readonly (double Lo, double Hi) BetaPlateau1 = (1, 2);
    public static readonly double[] ResizeProbabilities1 = [0.2, 0.7, 0.1]; // up, down, keep
    public static readonly (double Lo, double Hi) ResizeRange1 = (0.15, 1.5);
    public const double GaussianNoiseProbability1 = 0.5;
    public static readonly (double Lo, double Hi) NoiseSigma1 = (1, 30);
    public static readonly (double Lo, double Hi) PoissonScale1 = (0.05, 3);
    public const double GrayNoiseProbability1 = 0.4;
    public static readonly (double Lo, double Hi) JpegQuality1 = (30, 95);

    // Second degradation.
    public const double SecondBlurProbability = 0.8;
    public const double SincProbability2 = 0.1;
    public static readonly (double Lo, double Hi) BlurSigma2 = (0.2, 1.5);
    public static readonly (double Lo, double Hi) BetaGeneralized2 = (0.5, 4);
    public static readonly (double Lo, double Hi) BetaPlateau2 = (1, 2);
    public static readonly double[] ResizeProbabilities2 = [0.3, 0.4, 0.3];
    public static readonly (double Lo, double Hi) ResizeRange2 = (0.3, 1.2);
    public const double GaussianNoiseProbability2 = 0.5;
    public static readonly (double Lo, double Hi) NoiseSigma2 = (1, 25);
    public static readonly (double Lo, double Hi) PoissonScale2 = (0.05, 2.5);
    public const double GrayNoiseProbability2 = 0.4;
    public static readonly (double Lo, double Hi) JpegQuality2 = (30, 95);

    // Final stage: sinc filter with probability 0.8, else identity; resize+sinc before or after JPEG with equal odds.
    public const double FinalSincProbability = 0.8;
    public const double ResizeThenJpegProbability = 0.5;

    /// <summary>Interpolation modes drawn uniformly for every random resize (PyTorch <c>F.interpolate</c>).</summary>
    public static readonly string[] ResizeModes = ["area", "bilinear", "bicubic"];

    // Unsharp masking of the clean image before degrading (Real-ESRGAN's USMSharp: radius 50, weight 0.5, threshold 10).
    public const int UsmRadius = 50;
    public const double UsmWeight = 0.5;
    public const double UsmThreshold = 10;
}
