using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LatentIndigo.Degradations;

namespace LatentIndigo.Tests.Degradations;

/// <summary>
/// Property tests of the spec parser: every valid spec (random operators, in-range values at full double precision,
/// 1-3 stages) parses, its canonical <see cref="IDegradationModel.Spec"/> parses back to the same text and scale, and
/// any other text fails only with <see cref="DegradationSpecException"/>.
/// </summary>
public class DegradationSpecPropertyTests
{
    private static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>A double in [min, max] with all its digits (not a short decimal).</summary>
    private static Gen<double> Real(double min, double max) =>
        Gen.Choose(0, int.MaxValue).Select(i => min + (max - min) * (i / (double)int.MaxValue));

    private static readonly Gen<string> Resize =
        from method in Gen.Elements("bicubic", "bilinear", "area", "nearest")
        from factor in Gen.Choose(1, 4)
        select $"{method}:x{factor}";

    private static readonly Gen<string> Blur = Gen.OneOf(
        Real(0.1, 50).Select(s => $"gauss:sigma={N(s)}"),
        from sx in Real(0.1, 20)
        from sy in Real(0.1, 20)
        from theta in Real(-Math.PI, Math.PI)
        select $"gauss:sigmax={N(sx)},sigmay={N(sy)},theta={N(theta)}",
        from sx in Real(0.1, 10)
        from beta in Real(0.1, 10)
        select $"gengauss:sigma={N(sx)},beta={N(beta)}",
        from length in Real(1, 40)
        from angle in Real(-360, 360)
        select $"motion:length={N(length)},angle={N(angle)}",
        Real(0.01, Math.PI).Select(c => $"sinc:cutoff={N(c)}"));

    private static readonly Gen<string> Noise = Gen.OneOf(
        from sigma in Real(0, 255)
        from gray in Gen.Elements(false, true)
        select $"noise:sigma={N(sigma)}" + (gray ? ",gray=true" : ""),
        Real(0, 10).Select(s => $"poisson:scale={N(s)}"),
        Gen.Choose(1, 100).Select(q => $"jpeg:q={q}"));

    private static readonly Gen<string> Stage = Gen.OneOf(Resize, Blur, Noise);

    private static readonly Gen<string> ValidSpec =
        from count in Gen.Choose(1, 3)
        from a in Stage
        from b in Stage
        from c in Stage
        from spaces in Gen.Elements("", " ")
        select string.Join(spaces + ">" + spaces, new[] { a, b, c }.Take(count));

    private static int ExpectedFactor(string spec) => spec.Split('>')
        .Select(s => s.Trim())
        .Where(s => s.Contains(":x", StringComparison.Ordinal))
        .Aggregate(1, (f, s) => f * int.Parse(s[(s.IndexOf(":x", StringComparison.Ordinal) + 2)..], CultureInfo.InvariantCulture));

    [Property(MaxTest = 300)]
    public Property Valid_specs_parse_and_their_canonical_form_round_trips() => Prop.ForAll(ValidSpec.ToArbitrary(), spec =>
    {
        var model = DegradationSpec.Parse(spec);
        var again = DegradationSpec.Parse(model.Spec);
        return again.Spec == model.Spec
            && again.ScaleFactor == model.ScaleFactor
            && model.ScaleFactor == ExpectedFactor(spec)
            && model.Spec.Split('>').Length == spec.Split('>').Length;
    });

    [Property(MaxTest = 300)]
    public Property Parameter_values_survive_the_round_trip_exactly() => Prop.ForAll(Real(0.1, 50).ToArbitrary(), sigma =>
    {
        // The canonical form must carry every digit: a value that changed on the way would change the blur.
        var model = DegradationSpec.Parse($"gauss:sigma={N(sigma)}");
        var written = System.Text.RegularExpressions.Regex.Match(model.Spec, "sigma=([^,>]+)").Groups[1].Value;
        return double.Parse(written, CultureInfo.InvariantCulture) == sigma && DegradationSpec.Parse(model.Spec).Spec == model.Spec;
    });

    private static bool ParsesOrFailsCleanly(string text)
    {
        try
        {
            DegradationSpec.Parse(text);
            return true;
        }
        catch (DegradationSpecException ex)
        {
            return ex.Message.Length > 0;
        }
    }

    [Property(MaxTest = 500)]
    public Property Arbitrary_text_fails_only_with_a_spec_error() =>
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), text => text is null || ParsesOrFailsCleanly(text));

    private static readonly Gen<int[]> Factors =
        from count in Gen.Choose(2, 4)
        from a in Gen.Choose(1, 16)
        from b in Gen.Choose(1, 16)
        from c in Gen.Choose(1, 16)
        from d in Gen.Choose(1, 16)
        select new[] { a, b, c, d }.Take(count).ToArray();

    [Property(MaxTest = 300)]
    public Property Resize_chains_parse_up_to_a_total_of_1024_and_fail_as_spec_errors_beyond() => Prop.ForAll(Factors.ToArbitrary(), factors =>
    {
        string spec = string.Join(">", factors.Select(f => $"nearest:x{f}"));
        long total = factors.Aggregate(1L, (p, f) => p * f);
        try
        {
            return DegradationSpec.Parse(spec).ScaleFactor == total && total <= 1024;
        }
        catch (DegradationSpecException ex)
        {
            return total > 1024 && ex.Message.Contains(spec, StringComparison.Ordinal);
        }
    });

    private static readonly Gen<string> Mutated =
        from spec in ValidSpec
        from position in Gen.Choose(0, 1000)
        from insert in Gen.Elements("", ">", ":", "=", ",", "x", "-", "1e999", "NaN", "∞", " ", ";", "x0", "x99")
        from delete in Gen.Choose(0, 3)
        let at = position % (spec.Length + 1)
        select spec[..at] + insert + spec[Math.Min(spec.Length, at + delete)..];

    [Property(MaxTest = 500)]
    public Property Mutated_specs_fail_only_with_a_spec_error() => Prop.ForAll(Mutated.ToArbitrary(), ParsesOrFailsCleanly);
}
