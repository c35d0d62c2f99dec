using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using LatentIndigo.Invertible;
using Xunit;

namespace LatentIndigo.Tests.Invertible;

/// <summary>An <c>.inn</c> header is a few bytes of JSON that can declare a network of many gigabytes.</summary>
public class InnFileSizeTests
{
    public static TheoryData<int, int, int, int, int> Options() => new()
    {
        { 3, 2, 2, 32, 128 }, { 4, 2, 2, 32, 128 }, { 3, 1, 0, 4, 1 }, { 1, 3, 3, 7, 5 }, { 6, 2, 1, 16, 3 },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void Parameter_count_from_the_options_matches_the_built_network(int channels, int levels, int blocks, int width, int cond)
    {
        var options = new LiftingInnOptions { Channels = channels, Levels = levels, ResBlocks = blocks, Width = width, ConditionSize = cond };
        using var inn = new LiftingInn(options);
        Assert.Equal(inn.ParameterCount, options.CountParameters());
    }

    [Fact]
    public void A_header_that_declares_a_huge_network_is_refused_before_anything_is_allocated()
    {
        using var small = new LiftingInn(new LiftingInnOptions { Width = 4, ResBlocks = 1, ConditionSize = 2 });
        using var saved = new MemoryStream();
        small.Save(saved);
        var bytes = saved.ToArray();
        // Magic (8 bytes), header length (int32), header JSON, weights: rewrite the JSON to the largest allowed options.
        const int magicLength = 8;
        int length = BitConverter.ToInt32(bytes, magicLength);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, magicLength + 4, length))!.AsObject();
        header["Width"] = 4096;
        header["ResBlocks"] = 64;
        header["ConditionSize"] = 65536;
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        using var forged = new MemoryStream();
        forged.Write(bytes, 0, magicLength);
        forged.Write(BitConverter.GetBytes(json.Length));
        forged.Write(json);
        forged.Write(bytes, magicLength + 4 + length, bytes.Length - magicLength - 4 - length);
        forged.Position = 0;

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<InnWeightsException>(() => LiftingInn.Load(forged, "forged.inn"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.Contains("forged.inn", ex.Message);
        Assert.Contains("declares a network of", ex.Message);
        Assert.Contains("truncated or its header is damaged", ex.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "the loader allocated before refusing");
    }
}
