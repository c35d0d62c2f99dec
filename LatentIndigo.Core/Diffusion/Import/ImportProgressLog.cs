using Microsoft.Extensions.Logging;

namespace LatentIndigo.Diffusion.Import;

/// <summary>Logs an import's progress every tenth of the way (for callers without a progress bar).</summary>
internal sealed class ImportProgressLog(ILogger logger) : IProgress<StableDiffusionImportProgress>
{
    private int lastTenth = -1;

    public void Report(StableDiffusionImportProgress value)
    {
        int tenth = (int)(value.Fraction * 10);
        if (tenth != lastTenth)
        {
            lastTenth = tenth;
            logger.LogInformation("import: {Percent}% ({Model})", tenth * 10, value.Model);
        }
    }
}
