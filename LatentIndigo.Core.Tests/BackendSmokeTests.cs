using TorchSharp;
using Xunit;

namespace LatentIndigo.Tests;

public class BackendSmokeTests
{
    [Fact]
    public void TorchSharp_runs_a_real_op()
    {
        using var a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var b = a.matmul(a.t());
        Assert.Equal(5f, b[0, 0].item<float>());
        Assert.Equal(50f, b[1, 1].item<float>());
    }
}
