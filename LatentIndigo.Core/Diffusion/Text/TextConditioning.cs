using static TorchSharp.torch;

namespace LatentIndigo.Diffusion;

/// <summary>
/// Text embeddings for the UNet: the prompt's, and for classifier-free guidance the negative prompt's with a guidance
/// scale. Made by <see cref="StableDiffusionModels.EncodePrompt"/>; the tensors belong to the model set's cache (do
/// not dispose them) and stay valid until the model set is disposed.
/// </summary>
internal sealed class TextConditioning
{
    internal TextConditioning(string prompt, Tensor conditional, string? negativePrompt, Tensor? unconditional, double guidanceScale)
    {
        Prompt = prompt;
        Conditional = conditional;
        NegativePrompt = negativePrompt;
        Unconditional = unconditional;
        GuidanceScale = guidanceScale;
    }

    /// <summary>The prompt ("" by default: LatentINDIGO restores without text).</summary>
    public string Prompt { get; }

    /// <summary>The negative prompt used for the unconditional branch, when guidance is on.</summary>
    public string? NegativePrompt { get; }

    /// <summary>[1, 77, hidden] float32 embeddings of <see cref="Prompt"/>.</summary>
    public Tensor Conditional { get; }

    /// <summary>[1, 77, hidden] float32 embeddings of the negative prompt; null without guidance.</summary>
    public Tensor? Unconditional { get; }

    /// <summary>Classifier-free guidance scale s: ε = ε_u + s·(ε_c − ε_u). 1 means no guidance.</summary>
    public double GuidanceScale { get; }

    /// <summary>True when the UNet runs both branches.</summary>
    public bool UsesGuidance => Unconditional is not null && GuidanceScale != 1.0;
}
