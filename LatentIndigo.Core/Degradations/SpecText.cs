using System.Globalization;

namespace LatentIndigo.Degradations;

/// <summary>Formats spec values so they parse back to exactly the same numbers.</summary>
internal static class SpecText
{
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Bool(bool value) => value ? "true" : "false";
}
