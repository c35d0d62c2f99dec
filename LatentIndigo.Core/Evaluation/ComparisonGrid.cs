using TorchSharp;
using static TorchSharp.torch;

namespace LatentIndigo.Evaluation;

/// <summary>
/// A picture grid for comparing restorations: the panels side by side in the top row (a red frame marks the zoomed
/// region), and below each the centre third of it enlarged three times (nearest neighbour, so pixels stay visible).
/// </summary>
public static class ComparisonGrid
{
    private const int Gap = 8;

    /// <summary>Composes the grid.</summary>
    /// <param name="panels">RGB images <c>[1,3,H,W]</c> in [0,1], all the size of the last (the ground truth); a smaller panel (the LQ input)
    /// is enlarged to that size by nearest neighbour.</param>
    /// <returns>A <c>[1,3,2H+gap,n(W+gap)-gap]</c> image on a white background.</returns>
    public static Tensor Compose(IReadOnlyList<Tensor> panels)
    {
        ArgumentNullException.ThrowIfNull(panels);
        if (panels.Count == 0)
        {
            throw new ArgumentException("A grid needs at least one panel.", nameof(panels));
        }
        using var scope = torch.NewDisposeScope();
        long height = panels[^1].shape[2], width = panels[^1].shape[3];
        long cropHeight = Math.Max(1, height / 3), cropWidth = Math.Max(1, width / 3);
        long top = (height - cropHeight) / 2, left = (width - cropWidth) / 2;
        var grid = torch.ones(1, 3, 2 * height + Gap, panels.Count * (width + Gap) - Gap);
        for (int i = 0; i < panels.Count; i++)
        {
            var panel = panels[i].detach().to(DeviceType.CPU).to(ScalarType.Float32).clamp(0f, 1f);
            if (panel.shape[2] != height || panel.shape[3] != width)
            {
                panel = torch.nn.functional.interpolate(panel, size: new[] { height, width }, mode: InterpolationMode.Nearest);
            }
            var zoom = torch.nn.functional.interpolate(panel.narrow(2, top, cropHeight).narrow(3, left, cropWidth),
                size: new[] { height, width }, mode: InterpolationMode.Nearest);
            var framed = panel.clone();
            Frame(framed, top, left, cropHeight, cropWidth);
            long x = i * (width + Gap);
            grid.narrow(3, x, width).narrow(2, 0, height).copy_(framed);
            grid.narrow(3, x, width).narrow(2, height + Gap, height).copy_(zoom);
        }
        return grid.MoveToOuterDisposeScope();
    }

    private static void Frame(Tensor image, long top, long left, long height, long width)
    {
        var red = torch.tensor(new float[] { 1, 0, 0 }).reshape(1, 3, 1, 1);
        long thickness = Math.Min(2, Math.Min(height, width));
        image.narrow(2, top, thickness).narrow(3, left, width).copy_(red.expand(1, 3, thickness, width));
        image.narrow(2, top + height - thickness, thickness).narrow(3, left, width).copy_(red.expand(1, 3, thickness, width));
        image.narrow(2, top, height).narrow(3, left, thickness).copy_(red.expand(1, 3, height, thickness));
        image.narrow(2, top, height).narrow(3, left + width - thickness, thickness).copy_(red.expand(1, 3, height, thickness));
    }
}
