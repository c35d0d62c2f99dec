using LatentIndigo.Invertible;
using TorchSharp;
using Xunit;
using static LatentIndigo.Tests.Invertible.InnTestHelpers;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Invertible;

public class LiftingInnWeightsTests
{
    [Fact]
    public void PyTorch_state_dict_written_in_the_official_layout_reads_back_exactly()
    {
        using var scope = NewDisposeScope();
        using var source = RandomInn(LiftingInnOptions.Pixel(), seed: 41);
        var path = TempPath(".pth");
        source.SavePyTorchStateDict(path);

        var keys = StateDictFile.Read(path, out _).Keys.ToList();
        Assert.Equal(source.named_parameters().Count(), keys.Count);
        Assert.All(keys, k => Assert.StartsWith("transform_net.inn.lifts.", k));
        Assert.Contains("transform_net.inn.lifts.3.u.net.blocks.1.fc.2.bias", keys);

        using var target = new LiftingInn(LiftingInnOptions.Pixel());
        target.LoadPyTorchStateDict(path);
        File.Delete(path);
        using var g = new Generator(3);
        var x = rand(1, 3, 16, 16, generator: g);
        using var a = source.Forward(x, null);
        using var b = target.Forward(x, null);
        Assert.Equal(0, MaxAbs(a.Coarse, b.Coarse));
    }

    [Fact]
    public void Keys_without_prefix_and_degradation_encoder_keys_are_accepted()
    {
        using var scope = NewDisposeScope();
        using var source = RandomInn(LiftingInnOptions.Latent(), seed: 42);
        var dict = new Dictionary<string, Tensor>();
        foreach (var (k, v) in source.state_dict())
        {
            dict[k] = v.detach().clone();
        }
        dict["net_kdsr.E.0.weight"] = zeros(4); // stored beside the INN in INDIGO+; not part of it
        var path = TempPath(".pth");
        StateDictFile.Write(path, dict);
        using var target = new LiftingInn(LiftingInnOptions.Latent());
        target.LoadPyTorchStateDict(path);
        File.Delete(path);
        foreach (var (k, v) in source.state_dict())
        {
            Assert.Equal(0, MaxAbs(v, target.state_dict()[k]));
        }
    }

    [Fact]
    public void Mismatched_state_dict_lists_missing_unexpected_and_misshaped_keys_in_one_error()
    {
        using var scope = NewDisposeScope();
        using var source = RandomInn(LiftingInnOptions.Pixel(), seed: 43);
        var dict = new Dictionary<string, Tensor>();
        foreach (var (k, v) in source.state_dict())
        {
            dict[LiftingInn.OfficialKeyPrefix + k] = v.detach().clone();
        }
        dict.Remove("transform_net.inn.lifts.2.p.net.convout.weight");
        dict.Remove("transform_net.inn.lifts.0.u.net.blocks.1.conv1.bias");
        dict["transform_net.inn.lifts.4.p.net.convin.weight"] = zeros(32, 3, 3, 3);
        dict["transform_net.inn.lifts.1.u.net.blocks.0.fc.0.weight"] = zeros(64, 64);
        var path = TempPath(".pth");
        StateDictFile.Write(path, dict);

        using var target = new LiftingInn(LiftingInnOptions.Pixel());
        var before = target.state_dict()["lifts.0.p.net.convin.weight"].clone();
        var ex = Assert.Throws<InnWeightsException>(() => target.LoadPyTorchStateDict(path));
        File.Delete(path);
        Assert.Contains("transform_net.inn.lifts.2.p.net.convout.weight", ex.Message);
        Assert.Contains("transform_net.inn.lifts.0.u.net.blocks.1.conv1.bias", ex.Message);
        Assert.Contains("unexpected keys (1): transform_net.inn.lifts.4.p.net.convin.weight", ex.Message);
        Assert.Contains("transform_net.inn.lifts.1.u.net.blocks.0.fc.0.weight is [64,64], expected [64,128]", ex.Message);
        Assert.Contains("missing keys (2)", ex.Message);
        // Nothing was copied.
        Assert.Equal(0, MaxAbs(before, target.state_dict()["lifts.0.p.net.convin.weight"]));
    }

    [Fact]
    public void Unreadable_or_missing_files_give_clear_errors()
    {
        using var inn = new LiftingInn(LiftingInnOptions.Pixel());
        var missing = Assert.Throws<InnWeightsException>(() => inn.LoadPyTorchStateDict("/nonexistent/INN.pth"));
        Assert.Contains("does not exist", missing.Message);
        var junk = TempPath(".pth");
        File.WriteAllText(junk, "not a zip");
        var bad = Assert.Throws<InnWeightsException>(() => inn.LoadPyTorchStateDict(junk));
        Assert.Contains("torch.save", bad.Message);
        Assert.Throws<InnWeightsException>(() => LiftingInn.Load(junk));
        File.Delete(junk);
    }

    [Fact]
    public void Own_format_keeps_options_metadata_and_weights()
    {
        using var scope = NewDisposeScope();
        var options = new LiftingInnOptions { Channels = 4, Offset = 0.25, Levels = 3, ResBlocks = 1, Width = 8, ConditionSize = 16 };
        using var source = RandomInn(options, seed: 44);
        source.Metadata["degradation"] = "bicubic:x8";
        var path = TempPath(".inn");
        source.Save(path);
        using var loaded = LiftingInn.Load(path);
        File.Delete(path);
        Assert.Equal(options.ToString(), loaded.Options.ToString());
        Assert.Equal("bicubic:x8", loaded.Metadata["degradation"]);
        using var g = new Generator(5);
        var x = rand(1, 4, 16, 16, generator: g);
        using var a = source.Forward(x, null);
        using var b = loaded.Forward(x, null);
        Assert.Equal(0, MaxAbs(a.Coarse, b.Coarse));
    }

    [Fact]
    public void LoadAny_picks_the_format_by_extension()
    {
        using var scope = NewDisposeScope();
        using var pixel = RandomInn(LiftingInnOptions.Pixel(), seed: 45);
        using var latent = RandomInn(new LiftingInnOptions { Channels = 4, Offset = 0, ResBlocks = 1, Width = 8 }, seed: 46);
        var pth = TempPath(".pth");
        var own = TempPath(".inn");
        pixel.SavePyTorchStateDict(pth);
        latent.Save(own);
        using var fromPth = LiftingInn.LoadAny(pth);
        using var fromOwn = LiftingInn.LoadAny(own);
        File.Delete(pth);
        File.Delete(own);
        using var g = new Generator(6);
        var x = rand(1, 3, 16, 16, generator: g);
        var z = randn(1, 4, 16, 16, generator: g);
        Assert.Equal(0, MaxAbs(pixel.Forward(x, null).Coarse, fromPth.Forward(x, null).Coarse));
        Assert.Equal(latent.Options.ToString(), fromOwn.Options.ToString());
        Assert.Equal(0, MaxAbs(latent.Forward(z, null).Coarse, fromOwn.Forward(z, null).Coarse));
        Assert.Throws<InnWeightsException>(() => LiftingInn.LoadAny("/nonexistent/INN.pth"));
    }
}
