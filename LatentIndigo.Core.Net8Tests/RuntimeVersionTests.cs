using Xunit;

namespace LatentIndigo.Tests;

/// <summary>This project exists to run the library's net8.0 build on .NET 8: make sure it does.</summary>
public class RuntimeVersionTests
{
    [Fact]
    public void The_tests_run_on_dotnet_8() => Assert.Equal(8, Environment.Version.Major);
}
