using System.Net;

namespace Resilience.Http.Testing;

/// <summary>Sits below the resilience handler and records every response it passes up, and whether that response was disposed.</summary>
public sealed class TrackingHandler : DelegatingHandler
{
    private readonly List<TrackingContent> _contents = [];

    public TrackingHandler(HttpMessageHandler inner)
        : base(inner)
    {
    }

    public int Responses
    {
        get
        {
            lock (_contents)
            {
                return _contents.Count;
            }
        }
    }

    public int Undisposed
    {
        get
        {
            lock (_contents)
            {
                return _contents.Count(c => !c.IsDisposed);
            }
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var tracked = new TrackingContent(response.Content);
        lock (_contents)
        {
            _contents.Add(tracked);
        }

        response.Content = tracked;
        return response;
    }

    /// <summary>Wraps a response body; disposing the response disposes this content and the connection-holding original.</summary>
    private sealed class TrackingContent : HttpContent
    {
        private readonly HttpContent _inner;

        public TrackingContent(HttpContent inner)
        {
            _inner = inner;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        public bool IsDisposed { get; private set; }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _inner.CopyToAsync(stream);

        protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? 0;
            return _inner.Headers.ContentLength is not null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                IsDisposed = true;
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
