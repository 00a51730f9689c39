using ContentService.Errors;

namespace ContentService.Images;

/// <summary>Checks image requests; the first broken rule is answered 422 ERR_VALIDATION naming the field.</summary>
internal static class ImageRequestValidator
{
    public const int MinSide = 256;
    public const int MaxSide = 2048;

    public static (string Prompt, int Width, int Height) Validate(GenerateImageRequest? request)
    {
        if (request is null)
        {
            throw ApiException.Validation("body", "A JSON body with at least \"prompt\" is required.");
        }

        var prompt = request.Prompt?.Trim();
        if (string.IsNullOrEmpty(prompt) || prompt.Length is < 3 or > 1000)
        {
            throw ApiException.Validation("prompt", "prompt is required: 3 to 1000 characters.");
        }

        if (prompt.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || prompt.Contains('\u007f', StringComparison.Ordinal))
        {
            throw ApiException.Validation("prompt", "prompt must not contain control characters.");
        }

        var width = Side(request.Width, "width");
        var height = Side(request.Height, "height");
        return (prompt, width, height);
    }

    private static int Side(int? value, string field) => (value ?? 1024) is var side && side is >= MinSide and <= MaxSide && side % 64 == 0
        ? side
        : throw ApiException.Validation(field, $"{field} must be a multiple of 64 between {MinSide} and {MaxSide}.");
}
