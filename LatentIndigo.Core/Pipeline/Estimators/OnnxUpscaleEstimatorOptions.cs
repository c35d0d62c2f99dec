using LatentIndigo.Diffusion;

namespace LatentIndigo.Pipeline;

/// <summary>How <see cref="OnnxUpscaleEstimator"/> loads and runs a super-resolution network.</summary>
public sealed record OnnxUpscaleEstimatorOptions
{
    /// <summary>Where the network runs (provider, threads, CUDA device); null: the CPU with ONNX Runtime's defaults.
    /// Pass the pipeline's <see cref="RestorationPipelineOptions.Models"/> to run it beside the diffusion models.</summary>
    public DiffusionModelOptions? Session { get; init; }

    /// <summary>The network's pixel range; null reads it from the model's metadata or its sidecar JSON, else 0-1.</summary>
    public PixelValueRange? ValueRange { get; init; }

    /// <summary>True for an NHWC input and output, false for NCHW; null infers it from the input's channel axis
    /// (or reads it from the metadata or sidecar).</summary>
    public bool? ChannelsLast { get; init; }

    /// <summary>Side of a tile in input pixels (a model with a fixed input size uses its own). Default 192.</summary>
    public int TileSize { get; init; } = 192;

    /// <summary>
    /// Input pixels neighbouring tiles share. Each tile's own result fades out over the middle half of the shared band,
    /// so tiling changes nothing for a network whose receptive field reaches less than a quarter of it. Default 32.
    /// </summary>
    public int Overlap { get; init; } = 32;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="LatentIndigoException">A setting is out of range; the message names each one.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (TileSize < 8) problems.Add($"TileSize = {TileSize} (must be ≥ 8)");
        if (Overlap < 0 || Overlap > TileSize / 2) problems.Add($"Overlap = {Overlap} (must be between 0 and TileSize / 2 = {TileSize / 2})");
        if (ValueRange is { } r && !Enum.IsDefined(r)) problems.Add($"ValueRange = {r}");
        try
        {
            Session?.Validate();
        }
        catch (LatentIndigoException ex)
        {
            problems.Add(ex.Message);
        }
        if (problems.Count > 0)
        {
            throw new LatentIndigoException("Invalid OnnxUpscaleEstimatorOptions: " + string.Join("; ", problems) + ".");
        }
    }
}

/// <summary>Progress of <see cref="OnnxUpscaleEstimator.Estimate(TorchSharp.torch.Tensor, int, IProgress{UpscaleProgress}?, CancellationToken)"/>.</summary>
/// <param name="TilesDone">Tiles run so far (all images of the batch).</param>
/// <param name="Tiles">Tiles in total.</param>
public readonly record struct UpscaleProgress(int TilesDone, int Tiles);
