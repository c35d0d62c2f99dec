using TorchSharp;
using static TorchSharp.torch;
using S = LatentIndigo.Degradations.RealEsrganSettings;

namespace LatentIndigo.Degradations;

/// <summary>
/// Real-ESRGAN's random second-order "real-world" degradation (spec <c>realesrgan:x4</c>; <c>usm=false</c> skips the
/// initial sharpening): unsharp masking, then twice blur → random resize → Gaussian or Poisson noise → JPEG, then
/// the final resize to 1/factor with a sinc filter before or after the last JPEG, and 8-bit rounding. All parameters
/// come from Real-ESRGAN's published ranges (see docs/degradations.md) and are drawn per image from the generator;
/// they are recorded in the trace.
/// </summary>
/// <remarks>
/// Differences from the reference training code, all deliberate: every parameter is drawn per image (Real-ESRGAN draws
/// the resize and the noise type once per batch), JPEG is the real codec at integer quality (Real-ESRGAN uses a
/// differentiable JPEG at fractional quality), and the random numbers come from one TorchSharp generator.
/// </remarks>
public sealed class RealEsrganDegradation : DegradationModel
{
    /// <summary>Largest factor accepted.</summary>
    public const int MaxFactor = 8;

    /// <summary>Creates the pipeline.</summary>
    /// <param name="factor">Downscaling factor, 1 to 8 (Real-ESRGAN uses 4; 2 for its ×2 model).</param>
    /// <param name="unsharpMask">Sharpen the clean image first, as Real-ESRGAN does before degrading.</param>
    public RealEsrganDegradation(int factor = 4, bool unsharpMask = true)
    {
        if (factor < 1 || factor > MaxFactor)
        {
            throw new DegradationException($"The Real-ESRGAN factor must be an integer from 1 to {MaxFactor}; got {factor}.");
        }
        Factor = factor;
        UnsharpMask = unsharpMask;
    }

    /// <summary>Downscaling factor.</summary>
    public int Factor { get; }

    /// <summary>Whether the clean image is sharpened first.</summary>
    public bool UnsharpMask { get; }

    /// <inheritdoc />
    public override int ScaleFactor => Factor;

    /// <inheritdoc />
    public override string Spec => $"realesrgan:x{Factor}" + (UnsharpMask ? "" : ",usm=false");

    /// <summary>
    /// Every intermediate image must stay larger than the 21×21 blur kernels' padding after the smallest random
    /// resizes (0.15 in the first stage, 0.3/factor in the second), which needs sides of at least max(80, 40·factor).
    /// </summary>
    public override int MinimumSide => Math.Max(80, 40 * Factor);

    /// <inheritdoc />
    protected override Tensor ApplyCore(Tensor batch, Generator? generator, DegradationTrace? trace)
    {
        if (batch.shape[1] != 3)
        {
            throw new DegradationException($"'{Spec}' needs RGB images (3 channels, for JPEG and gray noise); got {batch.shape[1]}.");
        }
        using var draws = RandomDraws.From(generator);
        var outputs = new List<Tensor>();
        for (var i = 0; i < batch.shape[0]; i++)
        {
            var steps = new List<DegradationStep>();
            outputs.Add(DegradeOne(batch.narrow(0, i, 1), draws, steps));
            foreach (var step in steps)
            {
                trace?.Add(i, step);
            }
        }
        return torch.cat(outputs, 0);
    }

    private Tensor DegradeOne(Tensor image, RandomDraws draws, List<DegradationStep> steps)
    {
        long h = image.shape[2], w = image.shape[3];
        var x = image;
        if (UnsharpMask)
        {
            x = Usm(x);
            steps.Add(Step("usm", ("radius", S.UsmRadius), ("weight", S.UsmWeight), ("threshold", S.UsmThreshold)));
        }

        // First degradation.
        x = Blur(x, DrawKernel(draws, S.SincProbability1, S.BlurSigma1, S.BetaGeneralized1, S.BetaPlateau1), "blur1", steps);
        var (scale1, direction1) = DrawScale(draws, S.ResizeProbabilities1, S.ResizeRange1);
        var mode1 = draws.Pick(S.ResizeModes);
        x = Interpolate(x, (long)Math.Floor(h * scale1), (long)Math.Floor(w * scale1), mode1, scaleFactor: scale1);
        steps.Add(Step("resize1", ("direction", direction1), ("scale", scale1), ("mode", mode1), ("height", x.shape[2]), ("width", x.shape[3])));
        x = Noise(x, draws, S.GaussianNoiseProbability1, S.NoiseSigma1, S.PoissonScale1, S.GrayNoiseProbability1, "noise1", steps);
        x = Jpeg(x, draws, S.JpegQuality1, "jpeg1", steps);

        // Second degradation.
        if (draws.Bernoulli(S.SecondBlurProbability))
        {
            x = Blur(x, DrawKernel(draws, S.SincProbability2, S.BlurSigma2, S.BetaGeneralized2, S.BetaPlateau2), "blur2", steps);
        }
        else
        {
            steps.Add(Step("blur2", ("type", "none")));
        }
        var (scale2, direction2) = DrawScale(draws, S.ResizeProbabilities2, S.ResizeRange2);
        var mode2 = draws.Pick(S.ResizeModes);
        // As in Real-ESRGAN, the second resize is relative to the final size, truncated to integers.
        long h2 = (long)((double)h / Factor * scale2), w2 = (long)((double)w / Factor * scale2);
        x = Interpolate(x, h2, w2, mode2, scaleFactor: null);
        steps.Add(Step("resize2", ("direction", direction2), ("scale", scale2), ("mode", mode2), ("height", h2), ("width", w2)));
        x = Noise(x, draws, S.GaussianNoiseProbability2, S.NoiseSigma2, S.PoissonScale2, S.GrayNoiseProbability2, "noise2", steps);

        // Final: resize to the target size with a sinc filter (or none), before or after the last JPEG.
        var sincKernel = DrawFinalSinc(draws, out var sincParameters);
        var finalMode = draws.Pick(S.ResizeModes);
        var resizeFirst = draws.Bernoulli(S.ResizeThenJpegProbability);
        steps.Add(Step("final", ("order", resizeFirst ? "resize-sinc-jpeg" : "jpeg-resize-sinc"), ("mode", finalMode)));
        steps.Add(new DegradationStep("final.sinc", sincParameters));
        if (resizeFirst)
        {
            x = Interpolate(x, h / Factor, w / Factor, finalMode, scaleFactor: null);
            x = KernelConvolution.Filter(x, sincKernel, Spec);
            x = Jpeg(x, draws, S.JpegQuality2, "final.jpeg", steps);
        }
        else
        {
            x = Jpeg(x, draws, S.JpegQuality2, "final.jpeg", steps);
            x = Interpolate(x, h / Factor, w / Factor, finalMode, scaleFactor: null);
            x = KernelConvolution.Filter(x, sincKernel, Spec);
        }
        return x.mul(255).round_().clamp_(0, 255).div_(255);
    }

    /// <summary>
    /// Real-ESRGAN's unsharp mask: sharpen by half the residual against a 51-tap Gaussian blur (σ = 8, OpenCV's
    /// default for that size), blended in only where the residual exceeds 10/255 (softened by the same blur).
    /// </summary>
    internal static Tensor Usm(Tensor image)
    {
        var size = S.UsmRadius % 2 == 0 ? S.UsmRadius + 1 : S.UsmRadius;
        var sigma = 0.3 * ((size - 1) * 0.5 - 1) + 0.8;
        var taps = new float[size];
        var sum = 0.0;
        var g = new double[size];
        for (var i = 0; i < size; i++)
        {
            var d = i - (size - 1) / 2.0;
            g[i] = Math.Exp(-d * d / (2 * sigma * sigma));
            sum += g[i];
        }
        for (var i = 0; i < size; i++)
        {
            taps[i] = (float)(g[i] / sum);
        }
        var kernel = torch.tensor(taps);
        var blur = KernelConvolution.FilterSeparable(image, kernel, kernel, "usm");
        var residual = image.sub(blur);
        var mask = residual.abs().mul(255).gt(S.UsmThreshold).to(ScalarType.Float32);
        var softMask = KernelConvolution.FilterSeparable(mask, kernel, kernel, "usm");
        var sharp = image.add(residual.mul(S.UsmWeight)).clamp_(0, 1);
        return softMask.mul(sharp).add(softMask.neg().add_(1).mul_(image));
    }

    private Tensor Blur(Tensor x, (double[] Kernel, Dictionary<string, object> Parameters) drawn, string name, List<DegradationStep> steps)
    {
        steps.Add(new DegradationStep(name, drawn.Parameters));
        return KernelConvolution.Filter(x, drawn.Kernel, Spec);
    }

    /// <summary>Real-ESRGAN's kernel draw: a size in 7..21, then a sinc kernel or one of six Gaussian-family kernels.</summary>
    private static (double[] Kernel, Dictionary<string, object> Parameters) DrawKernel(RandomDraws draws, double sincProbability,
        (double Lo, double Hi) sigma, (double Lo, double Hi) betaG, (double Lo, double Hi) betaP)
    {
        const string What = "realesrgan";
        var size = draws.Pick(S.KernelSizes);
        double[] kernel;
        Dictionary<string, object> parameters;
        if (draws.Bernoulli(sincProbability))
        {
            // Smaller kernels get milder cutoffs: a sharp cutoff needs room to ring.
            var cutoff = size < 13 ? draws.Uniform(Math.PI / 3, Math.PI) : draws.Uniform(Math.PI / 5, Math.PI);
            kernel = KernelMath.CircularLowpass(size, cutoff, What);
            parameters = new() { ["type"] = "sinc", ["size"] = size, ["cutoff"] = cutoff };
        }
        else
        {
            var type = S.KernelTypes[draws.Choice(S.KernelProbabilities)];
            var isotropic = type.EndsWith("iso", StringComparison.Ordinal) && !type.EndsWith("aniso", StringComparison.Ordinal);
            var sx = draws.Uniform(sigma.Lo, sigma.Hi);
            var sy = isotropic ? sx : draws.Uniform(sigma.Lo, sigma.Hi);
            var theta = isotropic ? 0 : draws.Uniform(-Math.PI, Math.PI);
            var shape = type.StartsWith("generalized", StringComparison.Ordinal) ? KernelMath.Shape.Generalized
                : type.StartsWith("plateau", StringComparison.Ordinal) ? KernelMath.Shape.Plateau
                : KernelMath.Shape.Gaussian;
            var beta = 1.0;
            if (shape != KernelMath.Shape.Gaussian)
            {
                var range = shape == KernelMath.Shape.Generalized ? betaG : betaP;
                // Half the draws below 1, half above, so heavy and light tails are equally likely.
                beta = draws.Bernoulli(0.5) ? draws.Uniform(range.Lo, 1) : draws.Uniform(1, range.Hi);
            }
            kernel = KernelMath.Bivariate(shape, size, sx, sy, theta, beta, isotropic, What);
            parameters = new() { ["type"] = type, ["size"] = size, ["sigmaX"] = sx, ["sigmaY"] = sy, ["theta"] = theta };
            if (shape != KernelMath.Shape.Gaussian)
            {
                parameters["beta"] = beta;
            }
        }
        return (KernelMath.PadTo(kernel, size, S.KernelPadSize), parameters);
    }

    private static double[] DrawFinalSinc(RandomDraws draws, out Dictionary<string, object> parameters)
    {
        if (draws.Bernoulli(S.FinalSincProbability))
        {
            var size = draws.Pick(S.KernelSizes);
            var cutoff = draws.Uniform(Math.PI / 3, Math.PI);
            parameters = new() { ["type"] = "sinc", ["size"] = size, ["cutoff"] = cutoff };
            return KernelMath.PadTo(KernelMath.CircularLowpass(size, cutoff, "realesrgan"), size, S.KernelPadSize);
        }
        parameters = new() { ["type"] = "none" };
        return KernelMath.Pulse(1);
    }

    private static (double Scale, string Direction) DrawScale(RandomDraws draws, double[] probabilities, (double Lo, double Hi) range)
    {
        return draws.Choice(probabilities) switch
        {
            0 => (draws.Uniform(1, range.Hi), "up"),
            1 => (draws.Uniform(range.Lo, 1), "down"),
            _ => (1.0, "keep"),
        };
    }

    /// <summary>PyTorch <c>F.interpolate</c> (align_corners false, no antialiasing), as Real-ESRGAN resizes.</summary>
    private static Tensor Interpolate(Tensor x, long h, long w, string mode, double? scaleFactor)
    {
        var interpolation = mode switch
        {
            "area" => InterpolationMode.Area,
            "bilinear" => InterpolationMode.Bilinear,
            _ => InterpolationMode.Bicubic,
        };
        bool? alignCorners = interpolation == InterpolationMode.Area ? null : false;
        return scaleFactor is double s
            ? torch.nn.functional.interpolate(x, scale_factor: [s, s], mode: interpolation, align_corners: alignCorners)
            : torch.nn.functional.interpolate(x, size: [h, w], mode: interpolation, align_corners: alignCorners);
    }

    private static Tensor Noise(Tensor x, RandomDraws draws, double gaussianProbability, (double Lo, double Hi) sigma,
        (double Lo, double Hi) poisson, double grayProbability, string name, List<DegradationStep> steps)
    {
        if (draws.Bernoulli(gaussianProbability))
        {
            var s = draws.Uniform(sigma.Lo, sigma.Hi);
            var gray = draws.Bernoulli(grayProbability);
            steps.Add(Step(name, ("type", "gaussian"), ("sigma", s), ("gray", gray)));
            return GaussianNoise.Add(x, s, gray, draws);
        }
        var scale = draws.Uniform(poisson.Lo, poisson.Hi);
        var grayPoisson = draws.Bernoulli(grayProbability);
        steps.Add(Step(name, ("type", "poisson"), ("scale", scale), ("gray", grayPoisson)));
        return PoissonNoise.Add(x, scale, grayPoisson, draws);
    }

    private static Tensor Jpeg(Tensor x, RandomDraws draws, (double Lo, double Hi) range, string name, List<DegradationStep> steps)
    {
        var quality = (int)Math.Round(draws.Uniform(range.Lo, range.Hi));
        var (decoded, bytes) = JpegCompression.RoundTrip(x.clamp(0, 1), quality);
        steps.Add(Step(name, ("q", quality), ("bytes", bytes)));
        return decoded;
    }

    private static DegradationStep Step(string name, params (string Key, object Value)[] values) =>
        new(name, values.ToDictionary(v => v.Key, v => v.Value));
}
