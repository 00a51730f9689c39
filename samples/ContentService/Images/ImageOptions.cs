using Microsoft.Extensions.Options;

namespace ContentService.Images;

/// <summary>Image generation, bound from <c>Images</c>.</summary>
internal sealed class ImageOptions
{
    public const string Section = "Images";

    /// <summary>
    /// The GPU memory, in units, this instance may use at the image provider (the fake's GPU has 16). With several
    /// instances on one provider, give each its share, so together they never ask for more than the GPU has.
    /// </summary>
    public int GpuUnits { get; set; } = 16;

    /// <summary>How long one generation usually takes; a refused request is told to come back when enough should be free.</summary>
    public TimeSpan ExpectedDuration { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>Every rule of <see cref="ImageOptions"/>, each message naming its key.</summary>
internal sealed class ImageOptionsValidator : IValidateOptions<ImageOptions>
{
    public ValidateOptionsResult Validate(string? name, ImageOptions options)
    {
        var errors = new List<string>();
        if (options.GpuUnits < GpuAdmission.UnitsFor(ImageRequestValidator.MinSide, ImageRequestValidator.MinSide))
        {
            errors.Add($"Images:GpuUnits: must be at least {GpuAdmission.UnitsFor(ImageRequestValidator.MinSide, ImageRequestValidator.MinSide)} (the smallest image's need).");
        }

        if (options.ExpectedDuration < TimeSpan.FromSeconds(1) || options.ExpectedDuration > TimeSpan.FromMinutes(15))
        {
            errors.Add("Images:ExpectedDuration: must be between 00:00:01 and 00:15:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
