using System.Net;
using System.Text.Json;

namespace LatentIndigo.Web.Tests.Api;

/// <summary>
/// What the API refuses, before any decoding or queueing: unknown or invalid settings (400 naming the field) and each
/// limit (4xx with the library's own message). A refused request leaves no job behind.
/// </summary>
[Collection(StandInApp.Name)]
public sealed class RequestCheckTests(DemoFactory factory)
{
    private readonly DemoClient client = factory.Client();

    [Theory]
    [InlineData("colour", "red", "colour", "Unknown setting 'colour'")]
    [InlineData("strategy", "pixels", "strategy", "Unknown strategy 'pixels': use pixel, latent, none or inn-only.")]
    [InlineData("scale", "3", "scale", "scale must be 1, 2, 4 or 8")]
    [InlineData("scale", "four", "scale", "scale must be a whole number; got 'four'.")]
    [InlineData("steps", "0", "steps", "steps must be 1–999 (Stable Diffusion's schedule has 1000 timesteps, and its steps_offset 1 puts a 1000-step schedule's first step at t = 1000, outside it); got 0.")]
    [InlineData("steps", "201", "steps", "steps must be at most 200 on this server")]
    [InlineData("strength", "1.5", "strength", "strength must be in (0, 1]")]
    [InlineData("seed", "1e3", "seed", "seed must be a whole number")]
    [InlineData("sampler", "heun", "sampler", "Unknown sampler 'heun'")]
    [InlineData("degradation", "bicubic:x3", "degradation", "bicubic")]
    [InlineData("degradation", "blur:sigma=2,x4", "degradation", "")]
    [InlineData("estimator", "esrgan", "estimator", "Unknown estimator 'esrgan'. This server has: bicubic.")]
    public async Task A_bad_setting_is_a_400_that_names_the_field(string field, string value, string expectedField, string expectedMessage)
    {
        int jobsBefore = await JobsKept();
        using var response = await client.PostAsync(TestImages.Chelsea, new Dictionary<string, string> { [field] = value });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await DemoClient.ProblemAsync(response);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(expectedField, out var messages), $"no error for '{expectedField}' in {problem}");
        Assert.Contains(expectedMessage, messages[0].GetString());
        Assert.Equal(jobsBefore, await JobsKept());
    }

    [Fact]
    public async Task A_degradation_of_another_scale_than_the_scale_field_is_a_400_on_degradation()
    {
        using var response = await client.PostAsync(TestImages.Chelsea, new Dictionary<string, string> { ["degradation"] = "bicubic:x4", ["scale"] = "2" });
        var problem = await DemoClient.ProblemAsync(response);
        Assert.Equal("degradation 'bicubic:x4' scales by 4, but scale is 2.", problem.GetProperty("errors").GetProperty("degradation")[0].GetString());
    }

    [Fact]
    public async Task A_request_without_an_image_is_a_400_on_image()
    {
        using var form = new MultipartFormDataContent { { new StringContent("latent"), "strategy" } };
        using var response = await client.Http.PostAsync("/api/restore", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("field 'image'", (await DemoClient.ProblemAsync(response)).GetProperty("errors").GetProperty("image")[0].GetString());
    }

    [Fact]
    public async Task A_request_that_is_not_multipart_is_a_415()
    {
        using var response = await client.Http.PostAsync("/api/restore", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task An_upload_over_the_byte_limit_is_a_413_with_the_librarys_message()
    {
        var image = TestImages.Noise(200, 180); // 36,000 pixels (under the pixel limit), about 108 kB of PNG
        Assert.InRange(image.Length, DemoFactory.MaxUploadBytes + 1, DemoFactory.MaxUploadBytes + 60_000);
        await AssertRefused(image, [], HttpStatusCode.RequestEntityTooLarge,
            $"Cannot load image 'input.png': the file is {image.Length:N0} bytes, over the limit of {DemoFactory.MaxUploadBytes:N0}.");
    }

    [Fact]
    public async Task A_request_declaring_a_body_far_over_the_limit_is_refused_before_its_form_is_read()
    {
        var image = TestImages.Noise(300, 300); // about 270 kB: over the limit plus the form's allowance
        using var response = await client.PostAsync(image, new Dictionary<string, string>());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains($"Cannot load image 'the upload': the file is ", (await DemoClient.ProblemAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task An_input_over_the_pixel_limit_is_a_413_with_the_librarys_message()
    {
        await AssertRefused(TestImages.Flat(300, 200), [], HttpStatusCode.RequestEntityTooLarge,
            "the image is 300×200 = 60,000 pixels, over the limit of 50,000.");
    }

    [Fact]
    public async Task The_pixel_limit_is_checked_from_the_header_alone()
    {
        // Decoding this file would fail (its data is a 4×4 image's): the refusal naming 10000×10000 comes from the header.
        await AssertRefused(TestImages.HeaderClaiming(10_000, 10_000), [], HttpStatusCode.RequestEntityTooLarge,
            "the image is 10000×10000 = 100,000,000 pixels, over the limit of 50,000.");
    }

    [Fact]
    public async Task An_output_over_the_megapixel_limit_is_a_413_with_the_librarys_message()
    {
        await AssertRefused(TestImages.Chelsea, new() { ["scale"] = "8", ["strategy"] = "inn-only" }, HttpStatusCode.RequestEntityTooLarge,
            "'input.png' is 112×75; restored ×8 it would be 896×600 = 537,600 pixels, over the limit of 200,000 (RestoreOptions.MaxOutputPixels;");
    }

    [Fact]
    public async Task A_restore_needing_more_memory_than_allowed_is_a_413_naming_the_estimate()
    {
        await AssertRefused(TestImages.Chelsea, new() { ["strategy"] = "pixel" }, HttpStatusCode.RequestEntityTooLarge,
            "(RestoreOptions.EstimatePeakMemoryBytes), over this server's limit of 2.0 GiB per restore.");
    }

    [Fact]
    public async Task Bytes_that_are_no_image_are_a_415_with_the_librarys_message()
    {
        await AssertRefused("GIF89a not really"u8.ToArray(), [], HttpStatusCode.UnsupportedMediaType, "GIF is not supported.");
    }

    [Fact]
    public async Task Unknown_jobs_are_404_and_ids_never_reach_the_file_system()
    {
        foreach (var id in new[] { "0123456789abcdef0123456789abcdef", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd" })
        {
            using var response = await client.Http.GetAsync($"/api/jobs/{id}/result");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        using var sample = await client.Http.GetAsync("/api/samples/..%2F..%2Fappsettings.json");
        Assert.Equal(HttpStatusCode.NotFound, sample.StatusCode);
        using var listed = await client.Http.GetAsync("/api/samples/chelsea_x4.png");
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(TestImages.Chelsea, await listed.Content.ReadAsByteArrayAsync());
    }

    private async Task AssertRefused(byte[] image, Dictionary<string, string> settings, HttpStatusCode status, string message)
    {
        int jobsBefore = await JobsKept();
        using var response = await client.PostAsync(image, settings);
        var problem = await DemoClient.ProblemAsync(response);
        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, problem.GetProperty("detail").GetString());
        Assert.Equal(jobsBefore, await JobsKept());
    }

    private async Task<int> JobsKept() =>
        JsonDocument.Parse(await client.Http.GetStringAsync("/api/health")).RootElement.GetProperty("queue").GetProperty("jobsKept").GetInt32();
}
