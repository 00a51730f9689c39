using System.Globalization;
using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>The rules of <see cref="HttpRoutingOptions"/>, named by their configuration paths (<c>Hedging:Routing:Groups:0:Endpoints:1:Uri</c>).</summary>
internal static class HttpRoutingValidator
{
    private const string Prefix = "Hedging:Routing";

    public static void Validate(HttpHedgingOptions hedging, ValidateOptionsResultBuilder builder)
    {
        var routing = hedging.Routing;
        var groups = routing.Groups;
        if (groups.Count == 0)
        {
            return;
        }

        if (!hedging.Enabled)
        {
            builder.AddError("routes hedged requests only: set Hedging:Enabled to true, or remove the groups.", Prefix + ":Groups");
        }

        if (groups.Count > HttpEndpointRouter.MaxGroups)
        {
            builder.AddError($"has {groups.Count} groups; at most {HttpEndpointRouter.MaxGroups} are allowed.", Prefix + ":Groups");
        }

        for (var g = 0; g < groups.Count; g++)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{Prefix}:Groups:{g}");
            if (groups[g] is not { } group)
            {
                builder.AddError("is missing.", path);
                continue;
            }

            CheckWeight(builder, group.Weight, path + ":Weight");
            if (group.Endpoints.Count == 0)
            {
                builder.AddError("must list at least one endpoint.", path + ":Endpoints");
            }

            for (var e = 0; e < group.Endpoints.Count; e++)
            {
                var endpointPath = string.Create(CultureInfo.InvariantCulture, $"{path}:Endpoints:{e}");
                if (group.Endpoints[e] is not { } endpoint)
                {
                    builder.AddError("is missing.", endpointPath);
                    continue;
                }

                CheckWeight(builder, endpoint.Weight, endpointPath + ":Weight");
                if (endpoint.Uri is null)
                {
                    builder.AddError("is required: an absolute http or https URI.", endpointPath + ":Uri");
                }
                else if (endpoint.Uri is not { IsAbsoluteUri: true } uri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    builder.AddError($"{endpointPath}:Uri ('{endpoint.Uri}') must be an absolute http or https URI.", endpointPath + ":Uri");
                }
                else if (uri.AbsolutePath != "/" || uri.Query.Length != 0 || uri.Fragment.Length != 0 || uri.UserInfo.Length != 0)
                {
                    builder.AddError($"{endpointPath}:Uri ('{uri}') must name only scheme, host and port: the request's path and query are kept.", endpointPath + ":Uri");
                }
            }
        }
    }

    private static void CheckWeight(ValidateOptionsResultBuilder builder, double weight, string path)
    {
        if (!(weight > 0) || double.IsInfinity(weight))
        {
            builder.AddError($"{path} ({weight.ToString(CultureInfo.InvariantCulture)}) must be above 0.", path);
        }
    }
}
