namespace ContentService.Images;

/// <summary>The body of <c>POST /api/images</c>; checked by <see cref="ImageRequestValidator"/>.</summary>
internal sealed record GenerateImageRequest(string? Prompt, int? Width, int? Height);

/// <summary>A generated image as the provider answered it.</summary>
internal sealed record GeneratedImageResponse(string Id, int Width, int Height, int GpuUnits, string Url);

/// <summary>The body of <c>GET /api/images/capacity</c>: this instance's GPU units, in use and free.</summary>
internal sealed record GpuCapacityResponse(int CapacityUnits, int InUseUnits, int FreeUnits, int Running);
