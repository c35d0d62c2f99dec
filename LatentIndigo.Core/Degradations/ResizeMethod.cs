namespace LatentIndigo.Degradations;

/// <summary>Downscaling methods, all with MATLAB <c>imresize</c> semantics (pixel-centre alignment, symmetric edges).</summary>
public enum ResizeMethod
{
    /// <summary>MATLAB bicubic with antialiasing (Keys a = −0.5): the super-resolution benchmark convention.</summary>
    Bicubic,

    /// <summary>MATLAB bilinear with antialiasing (triangle kernel stretched by the factor).</summary>
    Bilinear,

    /// <summary>Area averaging: the mean of each factor×factor block (MATLAB box kernel with antialiasing).</summary>
    Area,

    /// <summary>MATLAB nearest neighbour (no antialiasing): picks one pixel per block.</summary>
    Nearest,
}
