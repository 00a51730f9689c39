namespace Resilience.Retry;

/// <summary>Defaults and limits of retry options, shared by the initializers, the validation and the docs.</summary>
internal static class RetryConstants
{
    public const int DefaultMaxRetries = 3;
    public const int MaxRetriesLimit = 100;
    public const double DefaultBackoffFactor = 2.0;
    public const double MinBackoffFactor = 1.0;
    public const double MaxBackoffFactor = 100.0;
    public const RetryBackoff DefaultBackoff = RetryBackoff.Exponential;
    public const RetryJitter DefaultJitter = RetryJitter.Decorrelated;
    public const string DefaultName = "retry";
    public const string ResultReason = "result";

    public static readonly TimeSpan DefaultBaseDelay = TimeSpan.FromMilliseconds(200);
    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(30);

    // TimeSpan ranges are checked by the validator: RangeAttribute(Type, string, string) is not trimming-safe.
    public static readonly TimeSpan MaxDelayLimit = TimeSpan.FromDays(1);

    // Retry budget.
    public const double DefaultMaxTokens = 10.0;
    public const double DefaultDepositPerSuccess = 0.1;
    public const int DefaultMinRetriesPerSecond = 1;
    public const double MaxTokensLimit = 1_000_000.0;
    public const double MinDeposit = 0.000001;
    public const double MaxDeposit = 1000.0;
    public const int MaxMinRetriesPerSecond = 1_000_000;
}
