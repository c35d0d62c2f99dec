using LatentIndigo.StandIns;

namespace LatentIndigo.Benchmarks.Pipeline;

/// <summary>
/// A full-size SD-architecture stand-in (random weights, several GB) written once under the temp directory and reused
/// by later benchmark runs; a marker file written last says the folder is complete.
/// </summary>
public static class ArchitectureStandInCache
{
    /// <summary>The SD 2.1-base stand-in folder (fp32, latent_parameters encoder, int64 [batch] timestep, external data).</summary>
    public static string Sd21Base(string? folder = null) => Get(folder ?? DefaultFolder("latentindigo-arch-sd21base-v1"),
        new StandInOptions { Architecture = StandInArchitecture.Sd21Base, ExternalData = true, EncoderOutput = StandInEncoderOutput.LatentParameters });

    // LATENTINDIGO_ARCH_STANDIN_DIR picks the parent folder (e.g. a large local disk on a GPU machine).
    private static string DefaultFolder(string name) =>
        Path.Combine(Environment.GetEnvironmentVariable("LATENTINDIGO_ARCH_STANDIN_DIR") is { Length: > 0 } d ? d : Path.GetTempPath(), name);

    private static string Get(string folder, StandInOptions options)
    {
        var marker = Path.Combine(folder, ".complete");
        if (!File.Exists(marker))
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
            Console.WriteLine($"// Writing the architecture stand-in to {folder} (several GB, once) ...");
            StandInModelBuilder.Write(folder, options);
            File.WriteAllText(marker, DateTime.UtcNow.ToString("O"));
        }
        return folder;
    }
}
