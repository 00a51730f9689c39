using System.Net;
using Microsoft.Extensions.Time.Testing;

namespace Resilience.Http.Tests.Handler;

public sealed class ResilienceHttpHandlerCancellationRaceTests
{
    [Fact]
    public async Task SendAsync_CallerCancelsAsTheFailureArrives_GetsItsCancellation_NotAGiveUpResponse()
    {
        using var caller = new CancellationTokenSource();
        var inner = new CancelThenFailHandler(caller);
        using var handler = new ResilienceHttpHandler("race", HttpResilienceOptions.Standard(), new FakeTimeProvider()) { InnerHandler = inner };
        // An invoker, not HttpClient: HttpClient would itself turn a cancelled token into an exception and hide the handler's answer.
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("http://127.0.0.1:9/items"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invoker.SendAsync(request, caller.Token));

        Assert.Equal(1, inner.Calls);
        Assert.True(inner.Disposed, "the discarded 503 must be disposed");
    }

    /// <summary>Cancels the caller's token, then answers 503: the two arrive together, as they do under load.</summary>
    private sealed class CancelThenFailHandler(CancellationTokenSource caller) : HttpMessageHandler
    {
        public int Calls { get; private set; }

        public HttpResponseMessage? LastResponse { get; private set; }

        public bool Disposed => LastResponse?.Content is TrackedContent { IsDisposed: true };

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            caller.Cancel();
            LastResponse = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new TrackedContent(), RequestMessage = request };
            return Task.FromResult(LastResponse);
        }
    }

    private sealed class TrackedContent : StringContent
    {
        public TrackedContent()
            : base("unavailable")
        {
        }

        public bool IsDisposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            IsDisposed = true;
            base.Dispose(disposing);
        }
    }
}
