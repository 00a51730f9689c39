using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>Binds <see cref="HttpResilienceOptions"/> from configuration (source-generated, trimming-safe), turning binding errors into validation errors that name the path.</summary>
internal static class HttpResilienceOptionsBinder
{
    public static void Bind(IConfiguration section, string clientName, string path, HttpResilienceOptions options)
    {
        try
        {
            section.Bind(options, static b => b.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key ("... at 'Resilience:Http:llm:MaxRetries' to type 'System.Int32'" or the unknown keys).
            throw new OptionsValidationException(clientName, typeof(HttpResilienceOptions), [path + ": " + e.Message]);
        }
    }
}
