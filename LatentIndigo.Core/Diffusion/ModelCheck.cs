using System.Diagnostics;
using System.Globalization;
using TorchSharp;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Runs each model of a set once on a synthetic image, so that an export can be checked without reaching into the
/// model wrappers (which are internal: their outputs are buffers the models own).
/// </summary>
internal static class ModelCheck
{
    public static ModelCheckResult Run(StableDiffusionModels models, int size, CancellationToken cancellationToken)
    {
        if (size < 8 || size % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The check image size must be a positive multiple of 8.");
        }
        var facts = Facts(models);
        var stages = new List<ModelCheckStage>();
        var clock = new Stopwatch();
        T Time<T>(string name, Func<T> call)
        {
            clock.Restart();
            var value = call();
            stages.Add(new ModelCheckStage(name, clock.Elapsed));
            return value;
        }

        using var scope = torch.NewDisposeScope();
        var text = Time("text encoder (empty prompt)", () => models.EncodePrompt(cancellationToken: cancellationToken));
        var ramp = torch.linspace(0, 1, size);
        // A smooth colour ramp on the models' device (the GPU with CUDA), where the UNet returns its output.
        var image = torch.stack([ramp.view(1, -1).expand(size, -1), ramp.view(-1, 1).expand(-1, size), torch.full([size, size], 0.5f)])
            .unsqueeze(0).to(models.Device);
        var latents = Time("VAE encode", () => models.Vae.Encode(image, cancellationToken: cancellationToken));
        using var sampler = models.CreateSampler();
        sampler.SetTimesteps(50);
        int t = sampler.TimestepsForStrength(0.5)[0];
        using var generator = new torch.Generator(12345);
        var noise = torch.randn(latents.shape, generator: generator).to(latents.device);
        var z = sampler.AddNoise(latents, noise, t);
        // The UNet's output is its own buffer: cloned before the next call overwrites it.
        var eps = Time($"UNet step (t = {t}, first: includes warm-up)", () => models.Unet.PredictNoise(z, t, text, cancellationToken).clone());
        // Steady state: the median of a few more steps (the first pays for kernel selection and buffer allocation).
        var warm = new TimeSpan[5];
        for (int i = 0; i < warm.Length; i++)
        {
            clock.Restart();
            models.Unet.PredictNoise(z, t, text, cancellationToken);
            warm[i] = clock.Elapsed;
        }
        Array.Sort(warm);
        stages.Add(new ModelCheckStage("UNet step (median of 5 more)", warm[warm.Length / 2]));
        bool finite;
        using (var step = sampler.Step(eps, t, z, 0.0, null))
        {
            finite = torch.isfinite(step.PrevSample).all().item<bool>();
        }
        var decoded = Time("VAE decode", () => models.Vae.Decode(latents, cancellationToken: cancellationToken));
        return new ModelCheckResult
        {
            Facts = facts,
            Stages = stages,
            StepIsFinite = finite,
            DecodedShape = decoded.shape,
            VaeRoundTripError = (decoded - image).abs().mean().item<float>(),
        };
    }

    private static List<KeyValuePair<string, string>> Facts(StableDiffusionModels models)
    {
        var encoder = models.VaeEncoder;
        string encoderNote = models.EncoderOutput == VaeEncoderOutputKind.LatentParameters ? " (mean used)"
            : encoder.SamplingRemoved ? " (sampling head removed: posterior mean)"
            : encoder.SamplesNoise ? " (sampled at every call)" : "";
        return
        [
            new("folder", models.Folder),
            new("execution provider", models.ExecutionProvider.ToString()),
            new("precision", models.Precision.ToString()),
            new("latent channels", models.LatentChannels.ToString(CultureInfo.InvariantCulture)),
            new("VAE encoder output", encoder.OutputName + encoderNote),
            new("default latent tile", models.DefaultLatentTileSize.ToString(CultureInfo.InvariantCulture)),
            new("UNet timestep", (models.Unet.TimestepRank == 0 ? "scalar " : "[batch] ") + models.Unet.TimestepElementType),
            new("text hidden size", models.HiddenSize.ToString(CultureInfo.InvariantCulture)),
            new("scaling factor", models.ScalingFactor.ToString(CultureInfo.InvariantCulture)
                + (models.ScalingFactorFromConfig ? "" : " (default: no VAE config states it)")),
            new("prediction type", models.PredictionType.ToString()),
            new("scheduler", models.SchedulerConfig.ToString()),
        ];
    }
}
