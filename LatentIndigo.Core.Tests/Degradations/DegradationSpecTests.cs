using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

public class DegradationSpecTests
{
    [Theory]
    [InlineData("bicubic:x4", 4)]
    [InlineData("bilinear:x2", 2)]
    [InlineData("area:x3", 3)]
    [InlineData("nearest:x8", 8)]
    [InlineData("gauss:sigma=2", 1)]
    [InlineData("gauss:sigmax=3,sigmay=1,theta=0.5,size=19", 1)]
    [InlineData("gengauss:sigmax=2,sigmay=1,theta=-1,beta=0.7", 1)]
    [InlineData("plateau:sigma=1.5,beta=1.5,size=15", 1)]
    [InlineData("motion:length=9,angle=30", 1)]
    [InlineData("trajectory:length=12", 1)]
    [InlineData("sinc:cutoff=1.2", 1)]
    [InlineData("kernel:values=0;0.25;0;0.25;0;0.25;0;0.25;0", 1)]
    [InlineData("noise:sigma=5", 1)]
    [InlineData("noise:sigma=2.5,gray=true", 1)]
    [InlineData("poisson:scale=0.5", 1)]
    [InlineData("jpeg:q=40", 1)]
    [InlineData("realesrgan:x4", 4)]
    [InlineData("realesrgan:x2,usm=false", 2)]
    [InlineData("gauss:sigma=2>bicubic:x4>noise:sigma=5>jpeg:q=40", 4)]
    [InlineData("bicubic:x2>bilinear:x2", 4)]
    public void Spec_round_trips_to_an_equivalent_model(string spec, int factor)
    {
        var model = DegradationSpec.Parse(spec);
        Assert.Equal(factor, model.ScaleFactor);
        var again = DegradationSpec.Parse(model.Spec);
        Assert.Equal(model.Spec, again.Spec);
        Assert.Equal(model.GetType(), again.GetType());
        if (spec.StartsWith("realesrgan", StringComparison.Ordinal))
        {
            return; // its outputs are compared in RealEsrganDegradationTests; too slow to repeat here
        }
        using var g = new Generator(1, torch.CPU);
        using var x = torch.rand([1, 3, 48, 48], generator: g);
        using var g1 = new Generator(2, torch.CPU);
        using var g2 = new Generator(2, torch.CPU);
        using var before = x.clone();
        using var a = model.Apply(x, g1);
        using var b = again.Apply(x, g2);
        Assert.True(a.eq(b).all().item<bool>(), spec);
        Assert.True(x.eq(before).all().item<bool>(), "the input was modified by " + spec);
        Assert.Equal(new long[] { 1, 3, 48 / factor, 48 / factor }, a.shape);
    }

    [Fact]
    public void Parsed_parameters_reach_the_operators()
    {
        var seq = Assert.IsType<SequentialDegradation>(DegradationSpec.Parse(" Gauss:Sigma=2 > bicubic:scale=4 > NOISE:sigma=5 > jpeg:quality=40 "));
        Assert.Equal(4, seq.Stages.Count);
        Assert.Equal("gauss:sigma=2,size=13", seq.Stages[0].Spec); // default size 2·⌈3σ⌉+1
        Assert.Equal(5, Assert.IsType<GaussianNoise>(seq.Stages[2]).Sigma);
        Assert.Equal(40, Assert.IsType<JpegCompression>(seq.Stages[3]).Quality);
        Assert.Equal(4, Assert.IsType<RealEsrganDegradation>(DegradationSpec.Parse("realesrgan")).Factor);
        using var k = Assert.IsType<BlurDegradation>(DegradationSpec.Parse("gauss:sigmax=3,sigmay=1,theta=0.5,size=19")).Kernel();
        using var expected = BlurKernels.BivariateGaussian(19, 3, 1, 0.5, false);
        Assert.True(k.allclose(expected));
    }

    [Fact]
    public void Unknown_names_list_every_valid_name_with_ranges()
    {
        var ex = Assert.Throws<DegradationSpecException>(() => DegradationSpec.Parse("gaus:sigma=2"));
        Assert.Contains("Unknown degradation 'gaus'", ex.Message);
        // The built-in names (user registrations from other tests may come and go concurrently).
        foreach (var name in new[] { "bicubic", "bilinear", "area", "nearest", "gauss", "gengauss", "plateau", "motion", "trajectory", "sinc", "kernel", "noise", "poisson", "jpeg", "realesrgan" })
        {
            Assert.Contains(name + ":", ex.Message);
        }
        Assert.Contains("sigma=<0.1..50>", ex.Message);
        Assert.Contains("q=<1..100>", ex.Message);
    }

    [Theory]
    [InlineData("gauss:sigma=80", "out of range")]
    [InlineData("gauss:sigma=abc", "not a number")]
    [InlineData("gauss:size=4,sigma=1", "size=4 is out of range")]
    [InlineData("gauss:sigma=1,sigmax=2", "either sigma")]
    [InlineData("gauss:radius=2", "no parameter 'radius'")]
    [InlineData("bicubic:x0", "out of range")]
    [InlineData("bicubic:x17", "x=<1..16>")]
    [InlineData("bicubic", "x is required")]
    [InlineData("jpeg:q=0", "q=<1..100>")]
    [InlineData("jpeg:q=40.5", "not an integer")]
    [InlineData("noise:sigma=5,gray=maybe", "true or false")]
    [InlineData("noise:sigma=5,sigma=6", "twice")]
    [InlineData("noise:sigma", "not key=value")]
    [InlineData("realesrgan:x9", "x=<1..8>")]
    [InlineData("motion:length=30,size=9", "does not fit")]
    [InlineData("kernel:values=1;2", "odd square")]
    [InlineData("bicubic:x4>>jpeg:q=3", "empty stage")]
    [InlineData("   ", "empty")]
    [InlineData("sinc:cutoff=4", "cutoff=<0.01..π>")]
    public void Bad_specs_say_what_is_wrong(string spec, string expected)
    {
        var ex = Assert.Throws<DegradationSpecException>(() => DegradationSpec.Parse(spec));
        Assert.Contains(expected, ex.Message);
    }
}
