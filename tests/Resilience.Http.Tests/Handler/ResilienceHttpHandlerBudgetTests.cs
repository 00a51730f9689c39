using Resilience.Http.Testing;
using Resilience.Retry;

namespace Resilience.Http.Tests.Handler;

/// <summary>A retry budget given to the handler (<see cref="HttpRetryBudgetOptions.Budget"/>) instead of one it makes per authority.</summary>
public sealed class ResilienceHttpHandlerBudgetTests : IAsyncLifetime
{
    private FaultServer _server = null!;

    public async Task InitializeAsync() => _server = await FaultServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task GivenBudget_TwoHandlers_DrawFromTheOneBucket()
    {
        // Two tokens for both clients together, no floor: three retries are allowed per request, two are in the bucket.
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 2, DepositPerSuccess = 0.1, MinRetriesPerSecond = 0 });
        using var first = new HandlerFixture(HandlerFixture.Immediate(o => o.RetryBudget.Budget = budget), "first");
        using var second = new HandlerFixture(HandlerFixture.Immediate(o => o.RetryBudget.Budget = budget), "second");
        _server.Default = FaultResponse.Status(503);

        using var spent = await first.GetAsync(_server.Url("/first"));
        Assert.Equal(HttpResilienceOutcome.RetryBudgetExhausted, HttpResilienceResponse.GetOutcome(spent));
        Assert.Equal(3, _server.RequestCount);

        // Each handler alone would have a bucket of its own (ten tokens, three retries); this one finds the first's empty.
        using var refused = await second.GetAsync(_server.Url("/second"));
        Assert.Equal(HttpResilienceOutcome.RetryBudgetExhausted, HttpResilienceResponse.GetOutcome(refused));
        Assert.Equal(4, _server.RequestCount);
        Assert.Same(budget, second.Handler.Engine.GetPipelines(_server.BaseAddress).Budget);
        Assert.Equal(2, budget.Rejections);
    }

    [Fact]
    public async Task GivenBudget_BudgetDisabled_RetriesUnlimitedByIt()
    {
        var budget = new RetryBudget(new RetryBudgetOptions { MaxTokens = 1, DepositPerSuccess = 0.1, MinRetriesPerSecond = 0 });
        using var fixture = new HandlerFixture(HandlerFixture.Immediate(o =>
        {
            o.RetryBudget.Budget = budget;
            o.RetryBudget.Enabled = false;
        }));
        _server.Default = FaultResponse.Status(503);

        using var response = await fixture.GetAsync(_server.Url("/off"));

        Assert.Equal(HttpResilienceOutcome.RetriesExhausted, HttpResilienceResponse.GetOutcome(response));
        Assert.Equal(4, _server.RequestCount);
        Assert.Null(fixture.Handler.Engine.GetPipelines(_server.BaseAddress).Budget);
        Assert.Equal(1, budget.AvailableTokens);
    }
}
