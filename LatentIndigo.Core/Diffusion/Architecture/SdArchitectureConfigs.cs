namespace LatentIndigo.Diffusion.Architecture;

/// <summary>
/// A UNet2DConditionModel-style UNet (Stable Diffusion's), as published: sinusoidal timestep embedding + MLP, ResNet
/// blocks (GroupNorm, SiLU, time injection), Transformer blocks (self- and cross-attention, GEGLU feed-forward) in every
/// level but the last, down/up sampling and skip concatenation.
/// </summary>
/// <param name="BlockOutChannels">Channels per level (SD: 320, 640, 1280, 1280).</param>
/// <param name="LayersPerBlock">ResNet(+Transformer) layers per down level (up levels have one more; SD: 2).</param>
/// <param name="CrossAttentionDim">Text embedding width (SD 1.x: 768, SD 2.x: 1024).</param>
/// <param name="HeadDim">Channels per attention head (SD 2.x: 64); null uses <paramref name="Heads"/> heads at every level.</param>
/// <param name="Heads">Heads per attention layer when <paramref name="HeadDim"/> is null (SD 1.x: 8).</param>
/// <param name="LinearProjection">Transformer proj_in/proj_out as linear layers (SD 2.x) rather than 1×1 convolutions (SD 1.x).</param>
/// <param name="NormGroups">GroupNorm groups (SD: 32).</param>
/// <param name="LatentChannels">Input and output channels (SD: 4).</param>
internal sealed record SdUnetConfig(int[] BlockOutChannels, int LayersPerBlock, int CrossAttentionDim, int? HeadDim, int Heads,
    bool LinearProjection, int NormGroups = 32, int LatentChannels = 4)
{
    /// <summary>Stable Diffusion 1.5's UNet (≈860 M parameters).</summary>
    public static SdUnetConfig Sd15 { get; } = new([320, 640, 1280, 1280], 2, 768, null, 8, false);

    /// <summary>Stable Diffusion 2.1-base's UNet (≈865 M parameters).</summary>
    public static SdUnetConfig Sd21Base { get; } = new([320, 640, 1280, 1280], 2, 1024, 64, 0, true);

    /// <summary>A tiny UNet with every kind of block, for tests (a few thousand parameters per block).</summary>
    public static SdUnetConfig Tiny { get; } = new([16, 32], 1, 24, 8, 0, true, NormGroups: 4);

    /// <summary>
    /// Heads per level, as diffusers' per-block <c>attention_head_dim</c> list (which, in SD's configs, counts heads:
    /// SD 2.x's [5, 10, 20, 20] are 64-channel heads); when set, it overrides <see cref="HeadDim"/> and <see cref="Heads"/>.
    /// </summary>
    public int[]? HeadsPerLevel { get; init; }

    /// <summary>
    /// Whether the published model computes attention scores in float32 even in fp16 (SD 2.1's <c>upcast_attention</c>).
    /// The graphs here always compute in float32, so this only documents the model.
    /// </summary>
    public bool UpcastAttention { get; init; }

    /// <summary>Attention heads at a level of <paramref name="channels"/> channels.</summary>
    public int HeadsAt(int channels) => HeadDim is { } d ? channels / d : Heads;

    /// <summary>Attention heads at level <paramref name="level"/> (0 = the first down level; the mid block is the last level).</summary>
    public int HeadsAtLevel(int level) => HeadsPerLevel is { } h ? h[level] : HeadsAt(BlockOutChannels[level]);

    /// <summary>Width of the timestep embedding MLP (4× the first level, as in SD).</summary>
    public int TimeEmbeddingDim => 4 * BlockOutChannels[0];
}

/// <summary>An AutoencoderKL-style VAE (Stable Diffusion's): ResNet levels, a mid block with self-attention, 2^(n−1) downscaling.</summary>
/// <param name="BlockOutChannels">Channels per level (SD: 128, 256, 512, 512; four levels downscale by 8).</param>
/// <param name="LayersPerBlock">ResNet blocks per encoder level (decoder levels have one more; SD: 2).</param>
/// <param name="NormGroups">GroupNorm groups (SD: 32).</param>
/// <param name="LatentChannels">Latent channels (SD: 4).</param>
internal sealed record SdVaeConfig(int[] BlockOutChannels, int LayersPerBlock, int NormGroups = 32, int LatentChannels = 4)
{
    /// <summary>Stable Diffusion 1.x / 2.x's VAE (≈84 M parameters).</summary>
    public static SdVaeConfig Sd { get; } = new([128, 256, 512, 512], 2);

    /// <summary>A tiny VAE with SD's four levels (downscale 8), for tests.</summary>
    public static SdVaeConfig Tiny { get; } = new([8, 8, 16, 16], 1, NormGroups: 4);

    /// <summary>Whether the encoder's and decoder's mid blocks have their self-attention (diffusers' <c>mid_block_add_attention</c>; SD: true).</summary>
    public bool MidBlockAttention { get; init; } = true;

    /// <summary>The factor between pixels and latents (2^(levels − 1); SD: 8).</summary>
    public int DownscaleFactor => 1 << (BlockOutChannels.Length - 1);
}

/// <summary>A CLIP-style causal text transformer (token + position embeddings, pre-LayerNorm blocks, final LayerNorm).</summary>
/// <param name="Hidden">Width (SD 1.x: 768, SD 2.x: 1024).</param>
/// <param name="Layers">Transformer blocks (SD 1.x: 12; SD 2.x: 23, the penultimate of OpenCLIP's 24 as exported).</param>
/// <param name="Heads">Attention heads (SD 1.x: 12, SD 2.x: 16).</param>
/// <param name="Intermediate">MLP width (SD 1.x: 3072, SD 2.x: 4096).</param>
/// <param name="QuickGelu">x·σ(1.702x) activation (CLIP ViT-L, SD 1.x) rather than exact GELU (OpenCLIP, SD 2.x).</param>
/// <param name="VocabularySize">Token embedding rows (CLIP: 49408).</param>
internal sealed record ClipTextConfig(int Hidden, int Layers, int Heads, int Intermediate, bool QuickGelu, int VocabularySize = 49408)
{
    /// <summary>SD 1.x's text encoder (CLIP ViT-L/14, ≈123 M parameters).</summary>
    public static ClipTextConfig Sd15 { get; } = new(768, 12, 12, 3072, true);

    /// <summary>SD 2.x's text encoder (OpenCLIP ViT-H/14 up to the penultimate layer, ≈340 M parameters).</summary>
    public static ClipTextConfig Sd21 { get; } = new(1024, 23, 16, 4096, false);

    /// <summary>A tiny text encoder for tests (width 24 to match <see cref="SdUnetConfig.Tiny"/>).</summary>
    public static ClipTextConfig Tiny { get; } = new(24, 2, 2, 48, true);

    /// <summary>Rows of the position embedding: the longest token sequence (CLIP: 77).</summary>
    public int MaxPositions { get; init; } = 77;

    /// <summary>LayerNorm epsilon (CLIP: 1e-5).</summary>
    public float LayerNormEps { get; init; } = 1e-5f;
}
