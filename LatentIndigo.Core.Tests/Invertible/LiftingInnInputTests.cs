using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public class LiftingInnInputTests
{
    [Fact]
    public void Sizes_not_divisible_by_two_to_the_levels_are_rejected()
    {
        using var inn = new LiftingInn(LiftingInnOptions.Pixel());
        using var x = zeros(1, 3, 18, 16);
        var ex = Assert.Throws<InnInputException>(() => inn.Forward(x, null));
        Assert.Contains("divisible by 4", ex.Message);
        Assert.Contains("Pad", ex.Message);
    }

    [Fact]
    public void Wrong_rank_channels_dtype_and_condition_are_rejected()
    {
        using var inn = new LiftingInn(LiftingInnOptions.Pixel());
        using var rank3 = zeros(3, 16, 16);
        Assert.Contains("4-D", Assert.Throws<InnInputException>(() => inn.Forward(rank3, null)).Message);
        using var four = zeros(1, 4, 16, 16);
        Assert.Contains("4 channels", Assert.Throws<InnInputException>(() => inn.Forward(four, null)).Message);
        using var dbl = zeros(1, 3, 16, 16, dtype: float64);
        Assert.Contains("Float64", Assert.Throws<InnInputException>(() => inn.Forward(dbl, null)).Message);
        using var x = zeros(2, 3, 16, 16);
        using var badCond = zeros(3, 128);
        Assert.Contains("condition", Assert.Throws<InnInputException>(() => inn.Forward(x, badCond)).Message);
    }

    [Fact]
    public void Inverse_rejects_details_that_do_not_fit()
    {
        using var scope = NewDisposeScope();
        using var inn = new LiftingInn(LiftingInnOptions.Pixel());
        var x = zeros(1, 3, 16, 16);
        using var dec = inn.Forward(x, null);
        var oneLevel = new[] { dec.Details[0] };
        Assert.Contains("2", Assert.Throws<InnInputException>(() => inn.Inverse(dec.Coarse, oneLevel, null)).Message);
        // Finest level first is the wrong order.
        var swapped = new[] { dec.Details[1], dec.Details[0] };
        Assert.Contains("details[0][0]", Assert.Throws<InnInputException>(() => inn.Inverse(dec.Coarse, swapped, null)).Message);
    }

    [Fact]
    public void Invalid_options_list_every_problem()
    {
        var ex = Assert.Throws<InvalidInnOptionsException>(() => new LiftingInn(new LiftingInnOptions { Channels = 0, Levels = -1, Width = 0 }));
        Assert.Contains("Channels = 0", ex.Message);
        Assert.Contains("Levels = -1", ex.Message);
        Assert.Contains("Width = 0", ex.Message);
    }
}
