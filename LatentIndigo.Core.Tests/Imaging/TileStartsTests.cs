using LatentIndigo.Imaging;
using Xunit;

namespace LatentIndigo.Tests.Imaging;

public class TileStartsTests
{
    [Theory]
    [InlineData(136, 64, 48, new[] { 0, 48, 72 })]   // last window moved back to end at the edge
    [InlineData(128, 64, 32, new[] { 0, 32, 64 })]   // a regular start that already ends at the edge is not repeated
    [InlineData(40, 64, 48, new[] { 0 })]            // one window covers the axis
    [InlineData(64, 64, 16, new[] { 0 })]
    [InlineData(65, 64, 64, new[] { 0, 1 })]
    public void Along_CoversTheAxisWithWindowsThatEndAtTheEdge(int length, int tile, int stride, int[] expected) =>
        Assert.Equal(expected, TileStarts.Along(length, tile, stride));

    [Fact]
    public void Along_EveryCellIsCoveredAndNoWindowPassesTheEdge()
    {
        for (int length = 1; length < 200; length += 7)
        {
            foreach (var (tile, stride) in new[] { (16, 8), (16, 16), (24, 5), (64, 48) })
            {
                int t = Math.Min(tile, length);
                var starts = TileStarts.Along(length, t, stride);
                Assert.All(starts, s => Assert.InRange(s, 0, length - t));
                Assert.True(Enumerable.Range(0, length).All(c => starts.Any(s => c >= s && c < s + t)));
                Assert.Equal(starts.Distinct().Count(), starts.Length);
            }
        }
    }

    [Fact]
    public void Along_RejectsAZeroStride() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TileStarts.Along(100, 10, 0));
}
