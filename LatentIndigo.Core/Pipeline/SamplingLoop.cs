using LatentIndigo.Diffusion;
using LatentIndigo.Guidance;
using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Pipeline;

/// <summary>
/// The "sample" stage of a restore: noise the encoded estimate to the start timestep, then for each step run the UNet
/// on every latent tile (in batches), guide each tile's ẑ0, optionally pull it back to the VAE's range, blend the tiles
/// with Gaussian weights and take the sampler step from the blended ẑ0.
/// </summary>
internal sealed class SamplingLoop
{
    private readonly RestoreRun run;
    private readonly RestoreRun.Encoded encoded;
    private readonly RestoreOptions options;
    private readonly CancellationToken cancellationToken;

    public SamplingLoop(RestoreRun run, RestoreRun.Encoded encoded)
    {
        this.run = run;
        this.encoded = encoded;
        options = run.Options;
        cancellationToken = run.CancellationToken;
    }

    public RestoreRun.Sampled Run()
    {
        using var sampler = CreateSampler();
        var generator = new Generator((ulong)options.Seed);
        sampler.Generator = generator;
        sampler.SetTimesteps(options.Steps);
        var timesteps = options.StartTimestep is int start ? sampler.TimestepsFrom(start) : sampler.TimestepsForStrength(options.Strength);
        var startLatent = encoded.StartLatent;
        // Drawn on the CPU: a seed gives the same start on every device.
        var noise = torch.randn(startLatent.shape, generator: generator).to(startLatent.device);
        var latent = sampler.AddNoise(startLatent, noise, timesteps[0]);

        int height = (int)latent.shape[2], width = (int)latent.shape[3];
        var windows = LatentTiling.Windows(height, width, options.Tile, options.Tile - options.TileOverlap);
        var weights = (windows.Count == 1
            ? torch.ones(windows[0].Height, windows[0].Width)
            : LatentTiling.GaussianWeights(windows[0].Height, windows[0].Width)).to(latent.device);
        int firstGuided = (int)Math.Floor(options.GuidanceSkipFraction * timesteps.Count);
        int batchSize = RestoreRun.TileBatchSize(options, latent.device);
        var finalLatent = latent;
        int stepsDone = 0;
        for (int i = 0; i < timesteps.Count; i++)
        {
            var step = new StepPlan(i, timesteps.Count, timesteps[i],
                Guided: encoded.Guidance is not null && i >= firstGuided,
                Refine: encoded.Guidance is not null && i >= firstGuided && encoded.Refiner is not null && i < timesteps.Count - 1,
                Regularize: encoded.Guidance is not null && i >= firstGuided && options.ManifoldRegularization
                    && (i - firstGuided) % options.EffectiveManifoldEveryKSteps == 0);
            using var stepScope = torch.NewDisposeScope();
            var (blendedOriginal, blendedNoise) = PredictBlended(sampler, latent, step, windows, weights, batchSize);
            using var update = sampler.StepFromOriginal(blendedOriginal, step.Timestep, latent, options.Eta, null,
                options.RecomputeNoiseAfterGuidance ? null : blendedNoise);
            RunChecks.Finite(update.PrevSample, $"sampler update at step {i + 1}/{timesteps.Count}");
            // Keep only the current latent and ẑ0 alive across steps: memory does not grow with the step count.
            var previousLatent = latent;
            var previousFinal = finalLatent;
            latent = update.PrevSample.clone().MoveToOuterDisposeScope();
            finalLatent = blendedOriginal.MoveToOuterDisposeScope();
            if (!ReferenceEquals(previousFinal, previousLatent))
            {
                previousFinal.Dispose();
            }
            previousLatent.Dispose();
            stepsDone = i + 1;
        }
        return new RestoreRun.Sampled(finalLatent, stepsDone, windows.Count);
    }

    private ILatentSampler CreateSampler() =>
        options.SamplerFactory?.Invoke(run.Models.SchedulerConfig) ?? run.Models.CreateSampler(options.Sampler);

    /// <summary>What one step does besides the UNet and the sampler update.</summary>
    private sealed record StepPlan(int Index, int Count, int Timestep, bool Guided, bool Refine, bool Regularize);

    // One step over all tiles: UNet → ẑ0 (and ε) per tile, guided and regularised, blended with the tile weights.
    private (Tensor Original, Tensor Noise) PredictBlended(ILatentSampler sampler, Tensor latent, StepPlan step,
        IReadOnlyList<LatentTile> windows, Tensor weights, int batchSize)
    {
        var originalSum = torch.zeros_like(latent);
        var noiseSum = torch.zeros_like(latent);
        var weightSum = torch.zeros(1, 1, latent.shape[2], latent.shape[3], device: latent.device);
        for (int first = 0; first < windows.Count; first += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Per-batch intermediates (crops, ẑ0, guided tiles) are freed as soon as they are blended in.
            using var batchScope = torch.NewDisposeScope();
            int count = Math.Min(batchSize, windows.Count - first);
            var batch = windows.Skip(first).Take(count).ToList();
            var tiles = Stack(latent, batch, 1);
            var modelOutput = run.Worker.Unet.PredictNoise(sampler.ScaleModelInput(tiles, step.Timestep), step.Timestep, encoded.Conditioning, cancellationToken);
            string where = $"step {step.Index + 1}/{step.Count}, tile {first + 1}/{windows.Count}";
            RunChecks.Finite(modelOutput, $"UNet output at {where}");
            using var prediction = sampler.PredictOriginal(modelOutput, step.Timestep, tiles);
            var original = Guide(prediction.PredictedOriginal, batch, step, where);
            for (int j = 0; j < count; j++)
            {
                var w = batch[j];
                originalSum.narrow(2, w.Top, w.Height).narrow(3, w.Left, w.Width).add_(original.narrow(0, j, 1) * weights);
                noiseSum.narrow(2, w.Top, w.Height).narrow(3, w.Left, w.Width).add_(prediction.PredictedNoise.narrow(0, j, 1) * weights);
                weightSum.narrow(2, w.Top, w.Height).narrow(3, w.Left, w.Width).add_(weights);
                run.Recorder.SamplingProgress(step.Index + 1, step.Count, first + j, windows.Count);
            }
        }
        return (originalSum / weightSum, noiseSum / weightSum);
    }

    // The guidance hook: the batch's ẑ0 against the observation under it, then the manifold regularisation.
    private Tensor Guide(Tensor original, List<LatentTile> batch, StepPlan step, string where)
    {
        if (step.Guided)
        {
            // The observation crop under each tile: latent px × 8 / s pixels of y, or latent px / s of E(y).
            var observed = Stack(encoded.Observation, batch, (double)encoded.PixelsPerLatent / options.ScaleFactor);
            string stage = $"{run.GuidanceName} guidance (INN) at {where}";
            var guidance = encoded.Guidance!;
            original = run.InnTimed(() => RunChecks.Inside(stage, () => guidance.Guide(original, observed, step.Refine, cancellationToken)));
            RunChecks.Finite(original, stage);
        }
        if (step.Regularize)
        {
            string stage = $"manifold regularisation (VAE decode and encode) at {where}";
            var vae = run.Worker.Vae;
            var current = original;
            original = RunChecks.Inside(stage, () => ManifoldRegularization.Apply(vae, current, options.ManifoldRho, cancellationToken));
            RunChecks.Finite(original, stage);
        }
        return original;
    }

    /// <summary>
    /// The windows of <paramref name="source"/> under <paramref name="tiles"/> (latent coordinates × <paramref name="scale"/>),
    /// stacked along the batch dimension; a single window is a view, so one-by-one runs copy nothing.
    /// </summary>
    private static Tensor Stack(Tensor source, List<LatentTile> tiles, double scale)
    {
        Tensor Crop(LatentTile w) => source
            .narrow(2, (long)(w.Top * scale), (long)(w.Height * scale))
            .narrow(3, (long)(w.Left * scale), (long)(w.Width * scale));
        return tiles.Count == 1 ? Crop(tiles[0]) : torch.cat(tiles.Select(Crop).ToArray(), 0);
    }
}
