using LatentIndigo.Imaging;
using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests.Imaging;

public class ImageTensorsTests
{
    [Fact]
    public void Signed_and_unit_ranges_map_to_each_other()
    {
        using var x = torch.tensor(new float[] { 0f, 0.25f, 1f });
        Assert.Equal(new float[] { -1f, -0.5f, 1f }, ImageTensors.ToSigned(x).data<float>().ToArray());
        Assert.Equal(new float[] { 0f, 0.25f, 1f }, ImageTensors.ToUnit(ImageTensors.ToSigned(x)).data<float>().ToArray());
    }

    // Reference reflection written independently: walk back and forth over 0..n-1 without repeating the edge.
    private static int Reflect(int index, int n)
    {
        if (n == 1)
        {
            return 0;
        }
        int position = 0, direction = 1;
        for (int k = 0; k < index; k++)
        {
            if (position + direction < 0 || position + direction >= n)
            {
                direction = -direction;
            }
            position += direction;
        }
        return position;
    }

    [Theory]
    [InlineData(5, 7, 8)]    // small pads
    [InlineData(3, 2, 16)]   // pad larger than the image: the reflection repeats
    [InlineData(16, 8, 8)]   // already a multiple: nothing added
    [InlineData(1, 1, 4)]    // single pixel
    public void Pad_reflects_and_crop_restores(int height, int width, int multiple)
    {
        using var image = torch.arange(2 * 3 * height * width, dtype: torch.float32).reshape(2, 3, height, width);
        var padded = ImageTensors.PadToMultiple(image, multiple);
        int ph = (int)padded.Image.shape[2], pw = (int)padded.Image.shape[3];
        Assert.Equal(0, ph % multiple);
        Assert.Equal(0, pw % multiple);
        Assert.True(ph - height < multiple && pw - width < multiple);
        Assert.Equal(ph - height, padded.PadBottom);
        Assert.Equal(pw - width, padded.PadRight);
        for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++)
        {
            float expected = image[1, 2, Reflect(y, height), Reflect(x, width)].item<float>();
            Assert.Equal(expected, padded.Image[1, 2, y, x].item<float>());
        }
        using var cropped = ImageTensors.Crop(padded);
        Assert.True(cropped.equal(image).all().item<bool>());
    }

    [Fact]
    public void Crop_of_a_scaled_result_keeps_original_size_times_scale()
    {
        using var image = torch.rand(1, 3, 5, 7);
        var padded = ImageTensors.PadToMultiple(image, 8);
        using var upscaled = torch.nn.functional.interpolate(padded.Image, scale_factor: new double[] { 4, 4 }, mode: torch.InterpolationMode.Nearest);
        using var cropped = ImageTensors.Crop(padded, upscaled, scale: 4);
        Assert.Equal(new long[] { 1, 3, 20, 28 }, cropped.shape);
    }
}
