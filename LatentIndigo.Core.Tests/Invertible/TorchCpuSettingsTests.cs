using LatentIndigo.Guidance;
using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Invertible.InnTestHelpers;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

/// <summary>The process-wide libtorch switch the library sets (NNPACK), its opt-out, and the gradient-route setting.</summary>
[Collection(TorchCpuSettingsCollection.Name)]
public class TorchCpuSettingsTests
{
    [Fact]
    public void Creating_an_inn_turns_nnpack_off_and_the_opt_out_turns_it_back_on()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the symbols are read with the Itanium C++ ABI names; Linux is what CI runs
        }
        using var inn = new LiftingInn(new LiftingInnOptions { Width = 4, ResBlocks = 1, ConditionSize = 2 });
        Assert.True(TorchCpuSettings.DisableNnpack);
        Assert.False(TorchCpuSettings.IsNnpackEnabledInLibtorch());
        try
        {
            TorchCpuSettings.DisableNnpack = false;
            Assert.True(TorchCpuSettings.IsNnpackEnabledInLibtorch());
        }
        finally
        {
            TorchCpuSettings.DisableNnpack = true;
        }
        Assert.False(TorchCpuSettings.IsNnpackEnabledInLibtorch());
    }

    [Fact]
    public void Undefined_gradient_route_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchCpuSettings.ConvolutionGradient = (ConvolutionGradientRoute)7);
        Assert.Equal(ConvolutionGradientRoute.ForwardConvolutions, TorchCpuSettings.ConvolutionGradient);
    }

    [Fact]
    public void Guidance_leaves_the_inn_parameters_without_gradients()
    {
        using var scope = NewDisposeScope();
        using var inn = RandomInn(new LiftingInnOptions { Width = 8, ResBlocks = 1, ConditionSize = 2 }, seed: 5);
        using var g = new Generator(3);
        var x = rand(2, 3, 32, 32, generator: g);
        var y = rand(2, 3, 8, 8, generator: g);
        using var result = new InnGuidanceStep(inn, 1, 1).Apply(x, y, null, 0.1);
        Assert.All(inn.parameters(), p => Assert.True(p.grad is null, "a parameter received a gradient"));
        using var moved = (result.Guided - x).abs().max();
        Assert.True(moved.item<float>() > 0, "the guidance step did not move the estimate");
    }
}

/// <summary>
/// Tests that change process-wide libtorch state (<see cref="TorchCpuSettings"/>, the thread count) run alone: beside
/// them, other tests' restores and gradients would see the change.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCpuSettingsCollection
{
    public const string Name = "TorchCpuSettings";
}
