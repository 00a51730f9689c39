using Microsoft.Extensions.Options;
using Resilience.DependencyInjection;

namespace Resilience.Http;

/// <summary>Validates the options of one named client and reports each failure as <c>{Section}:{Key}: {rule}</c> under its configuration path.</summary>
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

        var errors = new OptionsErrors();
        errors.AddResult(keyPrefix, OptionsErrors.Run(HttpResilienceOptionsValidator.Instance, options));
        return errors.ToResult();
    }
}
