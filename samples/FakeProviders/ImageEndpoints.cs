namespace FakeProviders;

/// <summary>
/// The fake image generator: one GPU with a finite memory in units (<c>Images:GpuUnits</c>, default 16). Each
/// generation loads its pipeline and holds <see cref="UnitsFor"/> units until it ends; one that does not fit fails
/// like a real GPU out of memory (500), which is what the content service's admission check exists to prevent.
/// Generation time is the "images" fault target's latency (or hang), so a test can hold memory as long as it needs.
/// </summary>
internal static class ImageEndpoints
{
    public const int MinSide = 256;
    public const int MaxSide = 2048;

    /// <summary>GPU units one generation needs: 4 for the model, 2 per started 512×512 block of pixels.</summary>
    public static int UnitsFor(int width, int height) => 4 + (2 * (int)Math.Ceiling(width * (double)height / (512 * 512)));

    public static WebApplication MapImages(this WebApplication app)
    {
        var gpu = new Gpu(app.Configuration.GetValue("Images:GpuUnits", 16));

        app.MapGet("/images/capacity", () => Results.Ok(gpu.Snapshot()));

        app.MapPost("/images/generate", async (ImageRequest request, HttpContext http, FaultBoard board) =>
        {
            gpu.Count();
            if (string.IsNullOrWhiteSpace(request.Prompt) || request.Width is < MinSide or > MaxSide || request.Height is < MinSide or > MaxSide)
            {
                return Results.Problem(statusCode: 422, title: $"prompt is required; width and height between {MinSide} and {MaxSide}",
                    extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_VALIDATION" });
            }

            var units = UnitsFor(request.Width, request.Height);
            if (!gpu.TryReserve(units))
            {
                return Results.Problem(statusCode: 500, title: "CUDA out of memory",
                    detail: $"tried to allocate {units} units; {gpu.Snapshot().FreeUnits} free");
            }

            try
            {
                if (await board.InjectAsync("images", http) is { } fault)
                {
                    return fault;
                }

                var id = Guid.NewGuid().ToString("N");
                return Results.Ok(new GeneratedImage(id, request.Width, request.Height, units, $"/images/{id}.png"));
            }
            finally
            {
                gpu.Release(units);
            }
        });
        return app;
    }

    /// <summary>The GPU's memory; every change under one lock, so a reservation never overcommits.</summary>
    private sealed class Gpu(int capacity)
    {
        private readonly Lock _lock = new();
        private int _inUse;
        private long _requests;

        public void Count() => Interlocked.Increment(ref _requests);

        public bool TryReserve(int units)
        {
            lock (_lock)
            {
                if (_inUse + units > capacity)
                {
                    return false;
                }

                _inUse += units;
                return true;
            }
        }

        public void Release(int units)
        {
            lock (_lock)
            {
                _inUse -= units;
            }
        }

        public GpuCapacity Snapshot()
        {
            lock (_lock)
            {
                return new GpuCapacity(capacity, _inUse, capacity - _inUse, Interlocked.Read(ref _requests));
            }
        }
    }
}

internal sealed record ImageRequest(string? Prompt, int Width = 1024, int Height = 1024);

internal sealed record GeneratedImage(string Id, int Width, int Height, int GpuUnits, string Url);

/// <summary>The GPU's memory and how many generate requests reached it (refused ones included).</summary>
internal sealed record GpuCapacity(int CapacityUnits, int InUseUnits, int FreeUnits, long Requests);
