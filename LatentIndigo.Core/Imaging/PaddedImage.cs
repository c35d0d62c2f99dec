using static TorchSharp.torch;

namespace LatentIndigo.Imaging;

/// <summary>An image padded on the bottom and right, with what is needed to crop it back.</summary>
/// <param name="Image">The padded tensor (owned by the caller).</param>
/// <param name="PadBottom">Rows added at the bottom.</param>
/// <param name="PadRight">Columns added at the right.</param>
/// <param name="OriginalHeight">Height before padding.</param>
/// <param name="OriginalWidth">Width before padding.</param>
internal sealed record PaddedImage(Tensor Image, int PadBottom, int PadRight, int OriginalHeight, int OriginalWidth);
