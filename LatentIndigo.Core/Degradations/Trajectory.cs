using TorchSharp;

namespace LatentIndigo.Degradations;

/// <summary>Random motion trajectories for camera-shake blur.</summary>
internal static class Trajectory
{
    /// <summary>Standard deviation of the turn between consecutive one-pixel steps, in radians.</summary>
    public const double TurnSigma = 0.35;

    public sealed record Drawn(double[] Kernel, double StartAngle, double Length, double[] PathX, double[] PathY);

    /// <summary>
    /// A random walk: unit-speed steps whose direction turns by a normal amount per pixel travelled (a smooth curve,
    /// sometimes a hook), sampled 8 times per pixel; then centred on its mean so the blur does not shift the image,
    /// and shrunk if it would not fit the kernel.
    /// </summary>
    public static Drawn Draw(int size, double length, RandomDraws draws)
    {
        const string What = "RandomTrajectory";
        KernelMath.CheckSize(size, What);
        KernelMath.CheckPositive(length, "length", What);
        if (size < 3)
        {
            throw new DegradationException($"{What}: the kernel size must be at least 3; got {size}.");
        }
        var steps = Math.Max(1, (int)Math.Ceiling(length));
        var start = draws.Uniform(-Math.PI, Math.PI);
        using var turns = draws.Normal([steps], torch.CPU);
        var turn = turns.data<float>().ToArray();
        const int PerPixel = 8;
        var count = steps * PerPixel + 1;
        var xs = new double[count];
        var ys = new double[count];
        var stepLength = (length - 1) / steps; // a path of length L covers L pixels, as a motion line does
        var angle = start;
        for (var s = 0; s < steps; s++)
        {
            angle += TurnSigma * turn[s];
            for (var k = 1; k <= PerPixel; k++)
            {
                var i = s * PerPixel + k;
                xs[i] = xs[i - 1] + Math.Cos(angle) * stepLength / PerPixel;
                ys[i] = ys[i - 1] - Math.Sin(angle) * stepLength / PerPixel;
            }
        }
        double mx = xs.Average(), my = ys.Average();
        var extent = 0.0;
        for (var i = 0; i < count; i++)
        {
            xs[i] -= mx;
            ys[i] -= my;
            extent = Math.Max(extent, Math.Max(Math.Abs(xs[i]), Math.Abs(ys[i])));
        }
        var radius = size / 2;
        if (extent > radius - 1e-9)
        {
            var shrink = (radius - 1e-6) / extent;
            for (var i = 0; i < count; i++)
            {
                xs[i] *= shrink;
                ys[i] *= shrink;
            }
        }
        var points = new (double X, double Y)[count];
        for (var i = 0; i < count; i++)
        {
            points[i] = (xs[i], ys[i]);
        }
        return new Drawn(KernelMath.Splat(points, size, What), start, length, xs, ys);
    }
}
