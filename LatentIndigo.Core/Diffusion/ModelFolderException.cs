namespace LatentIndigo.Diffusion;

/// <summary>
/// A Stable Diffusion ONNX folder does not meet the contract. <see cref="Problems"/> lists every problem found (all
/// of them, not only the first), and the message shows them one per line.
/// </summary>
public sealed class ModelFolderException : LatentIndigoException
{
    /// <summary>Creates the exception for <paramref name="folder"/> with its problems.</summary>
    public ModelFolderException(string folder, IReadOnlyList<string> problems)
        : base(FormatMessage(folder, problems))
    {
        Folder = folder;
        Problems = problems;
    }

    /// <summary>The folder that was checked.</summary>
    public string Folder { get; }

    /// <summary>Every problem found, one sentence each.</summary>
    public IReadOnlyList<string> Problems { get; }

    private static string FormatMessage(string folder, IReadOnlyList<string> problems) =>
        $"'{folder}' is not a usable Stable Diffusion ONNX export ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):"
        + string.Concat(problems.Select(p => Environment.NewLine + "  - " + p))
        + Environment.NewLine + "Expected the layout of a diffusers/optimum ONNX export: unet/, vae_encoder/, vae_decoder/, text_encoder/ "
        + "(each with model.onnx), tokenizer/vocab.json and merges.txt, scheduler/scheduler_config.json.";
}
