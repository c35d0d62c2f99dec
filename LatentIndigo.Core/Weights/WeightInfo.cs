namespace LatentIndigo.Weights;

/// <summary>One tensor of a weight file: its name, element type and shape (row-major, outermost first).</summary>
internal sealed record WeightInfo(string Name, WeightDType DType, long[] Shape)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n = checked(n * d);
            }
            return n;
        }
    }

    /// <summary>The shape as <c>[a, b, c]</c>, for messages.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType} {ShapeText}";
}
