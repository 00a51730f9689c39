using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>Validates the options of one named client and reports each failure under its configuration path.</summary>
internal sealed class HttpResilienceNamedValidator(string clientName, string keyPrefix) : IValidateOptions<HttpResilienceOptions>
{
    /// <summary>Gets the client this validator (and so this registration of the handler) belongs to.</summary>
    public string ClientName => clientName;

    public ValidateOptionsResult Validate(string? name, HttpResilienceOptions options)
    {
        if (!string.Equals(name, clientName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var result = HttpResilienceOptionsValidator.Instance.Validate(name, options);
        if (!result.Failed)
        {
            return result;
        }

        var failures = new List<string>();
        foreach (var failure in result.Failures ?? [])
        {
            failures.Add(keyPrefix + ": " + failure);
        }

        return ValidateOptionsResult.Fail(failures);
    }
}
