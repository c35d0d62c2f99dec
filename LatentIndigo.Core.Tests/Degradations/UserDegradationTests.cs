using System.Globalization;
using LatentIndigo.Degradations;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace LatentIndigo.Tests.Degradations;

/// <summary>The user degradation of docs/degradations.md, verbatim: salt-and-pepper noise.</summary>
public sealed class SaltPepperNoise : IDegradationModel
{
    public SaltPepperNoise(double amount)
    {
        if (!(amount is >= 0 and <= 1))
        {
            throw new DegradationException($"salt-pepper amount must be in [0, 1]; got {amount}.");
        }
        Amount = amount;
    }

    public double Amount { get; }

    public int ScaleFactor => 1;

    public string Spec => "salt-pepper:amount=" + Amount.ToString("R", CultureInfo.InvariantCulture);

    public Tensor Apply(Tensor batch, Generator? generator = null)
    {
        using var scope = torch.NewDisposeScope();
        long n = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        // Draw on the CPU from the caller's generator (the same seed gives the same pixels on any device).
        var u = torch.rand([n, 1, h, w], generator: generator).to(batch.device);
        var salt = u.lt(Amount / 2);
        var pepper = u.ge(Amount / 2).logical_and(u.lt(Amount));
        var result = batch.masked_fill(salt, 1f).masked_fill(pepper, 0f);
        return result.MoveToOuterDisposeScope();
    }
}

public class UserDegradationTests
{
    static UserDegradationTests()
    {
        DegradationSpec.Register("salt-pepper", "amount=<0..1>", p =>
            new SaltPepperNoise(double.Parse(p.TryGetValue("amount", out var a) ? a : "0.05", CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void A_registered_user_degradation_parses_chains_and_round_trips()
    {
        var model = DegradationSpec.Parse("gauss:sigma=1>salt-pepper:amount=0.1>bicubic:x2");
        Assert.Equal("gauss:sigma=1,size=7>salt-pepper:amount=0.1>bicubic:x2", model.Spec);
        Assert.Equal(model.Spec, DegradationSpec.Parse(model.Spec).Spec);
        Assert.Contains("salt-pepper", DegradationSpec.Names);

        using var x = torch.full([2, 3, 64, 64], 0.5f);
        using var g1 = new Generator(1, torch.CPU);
        using var g2 = new Generator(1, torch.CPU);
        using var a = DegradationSpec.Parse("salt-pepper:amount=0.1").Apply(x, g1);
        using var b = DegradationSpec.Parse("salt-pepper:amount=0.1").Apply(x, g2);
        Assert.True(a.eq(b).all().item<bool>());
        // About 5 % salt and 5 % pepper, the same mask in every channel.
        var saltShare = a.eq(1f).to(ScalarType.Float32).mean().item<float>();
        Assert.InRange(saltShare, 0.04f, 0.06f);
        Assert.True(a[.., 0].eq(a[.., 2]).all().item<bool>());

        // Its trace entry is its spec.
        var trace = new DegradationTrace(2);
        using var traced = DegradationTrace.ApplyTraced(new SaltPepperNoise(0.2), x, g1, trace);
        Assert.Equal("salt-pepper:amount=0.2", trace.StepsOf(0).Single().Operator);
    }

    [Fact]
    public void Registration_rules_and_factory_errors_are_reported()
    {
        Assert.Throws<DegradationException>(() => DegradationSpec.Register("gauss", "", _ => new SaltPepperNoise(0)));
        Assert.Throws<DegradationException>(() => DegradationSpec.Register("Bad Name", "", _ => new SaltPepperNoise(0)));
        var ex = Assert.Throws<DegradationSpecException>(() => DegradationSpec.Parse("salt-pepper:amount=3"));
        Assert.Contains("[0, 1]", ex.Message);
        Assert.Contains("amount=<0..1>", ex.Message);
    }
}
