// Plugs parts of your own into LatentIndigo: a degradation model (an INN is trained for it through the API), a guidance
// and a sampler, then restores one image with them, INN-only and with (stand-in) diffusion, on one shared pipeline.
// Usage: dotnet run -c Release --project samples/LatentIndigo.CustomParts -- [image] [output-folder]
using LatentIndigo.Diffusion;
using LatentIndigo.Imaging;
using LatentIndigo.Invertible;
using LatentIndigo.Pipeline;
using LatentIndigo.Samples.CustomParts;
using LatentIndigo.StandIns;
using TorchSharp;

string image = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "data", "coffee.png");
string outputFolder = args.Length > 1 ? args[1] : "out/custom-parts";
Directory.CreateDirectory(outputFolder);
var degradation = new BoxBlurDownscale();

// 1. Train a small ×2 pixel INN whose coarse band imitates the degradation (60 steps: a minute or two on a quiet CPU).
using var photo = ImageIO.Load(image);
using var training = InnImageSet.FromTensors([torch.nn.functional.avg_pool2d(photo, 2).squeeze(0)]);
var inn = new LiftingInn(new LiftingInnOptions { Levels = 1, ResBlocks = 1, Width = 16 });
var result = new InnTrainer(inn, degradation, new InnTrainingOptions { Steps = 60, BatchSize = 4, CropSize = 32, LearningRate = 2e-3, ValidateEvery = 0 })
    .Train(training);
Console.WriteLine($"Trained the INN for '{degradation.Spec}' in {result.Elapsed.TotalSeconds:F0} s.");

// 2. A low-quality input made with the same degradation, so the restoration can be scored against it.
using var crop = photo.narrow(2, 0, Math.Min(photo.shape[2], 128)).narrow(3, 0, Math.Min(photo.shape[3], 128));
using var lowQuality = degradation.Apply(crop);

// 3. One pipeline over stand-in diffusion models (random weights: the output shows the plumbing, not a real prior),
//    serving two restores at once. The pipeline owns the INN and the models.
using var standIn = StandInModelBuilder.CreateTemporary(new StandInOptions { UnetBehavior = StandInUnetBehavior.GaussianDenoiser });
using var pipeline = new RestorationPipeline(StableDiffusionModels.Load(standIn.Path), inn, maxConcurrentRestores: 2);
var options = RestoreOptions.Default with { ScaleFactor = 2, Steps = 20, KnownDegradation = degradation };
var innOnly = pipeline.RestoreAsync(lowQuality, options with { Strategy = GuidanceStrategy.InnOnly });
var guided = pipeline.RestoreAsync(lowQuality, options with
{
    Guidance = new DampedGuidanceFactory(0.7),
    Sampler = SamplerNames.Parse("euler-a"),
});
foreach (var (name, task) in new[] { ("inn-only", innOnly), ("damped-guidance", guided) })
{
    using var restored = await task;
    string path = Path.Combine(outputFolder, $"{name}.png");
    ImageIO.Save(restored.Image, path);
    Console.WriteLine($"{name}: re-degrades to the input at {restored.MeasurementPsnr:F1} dB (guidance {restored.GuidanceName}) → {path}");
}
