using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Fallback;
using Resilience.Health;
using Resilience.Retry;
using Resilience.Timeouts;

namespace Resilience.Core.Tests.DependencyInjection;

/// <summary>Every options type has a public validator that an adapter can compose: one rule for all of them.</summary>
public sealed class OptionsValidatorsTests
{
    [Fact]
    public void EveryPublicOptionsType_HasPublicValidatorWithParameterlessConstructor()
    {
        var assembly = typeof(Outcome).Assembly;
        foreach (var options in assembly.GetExportedTypes())
        {
            if (!options.Name.EndsWith("Options", StringComparison.Ordinal) || options.IsGenericType)
            {
                continue;
            }

            var validator = assembly.GetType(options.FullName + "Validator");
            Assert.True(validator is { IsPublic: true }, $"{options.Name} has no public {options.Name}Validator.");
            Assert.NotNull(validator!.GetConstructor(Type.EmptyTypes));
            Assert.Contains(typeof(IValidateOptions<>).MakeGenericType(options), validator.GetInterfaces());
        }
    }

    [Fact]
    public void PublicValidators_RejectInvalidOptions()
    {
        Assert.True(new CircuitBreakerOptionsValidator().Validate(null, new CircuitBreakerOptions { FailureThreshold = 0 }).Failed);
        Assert.True(new CachedFallbackOptionsValidator().Validate(null, new CachedFallbackOptions { MaxEntries = 0 }).Failed);
        Assert.True(new PoolHealthOptionsValidator().Validate(null, new PoolHealthOptions { PingTimeout = TimeSpan.Zero }).Failed);
        Assert.True(new ResiliencePipelineOptionsValidator().Validate(null, new ResiliencePipelineOptions { TotalTimeout = TimeSpan.Zero }).Failed);
        Assert.True(new RetryOptionsValidator().Validate(null, new RetryOptions { MaxRetries = -1 }).Failed);
        Assert.True(new RetryBudgetOptionsValidator().Validate(null, new RetryBudgetOptions { MaxTokens = -1 }).Failed);
        Assert.True(new Resilience.Hedging.HedgingOptionsValidator().Validate(null, new Resilience.Hedging.HedgingOptions { MaxHedgedAttempts = 0 }).Failed);
        Assert.True(new TimeoutOptionsValidator().Validate(null, new TimeoutOptions { Timeout = TimeSpan.Zero }).Failed);
        Assert.True(new DeadlineOptionsValidator().Validate(null, new DeadlineOptions { Limit = TimeSpan.Zero }).Failed);
    }
}
