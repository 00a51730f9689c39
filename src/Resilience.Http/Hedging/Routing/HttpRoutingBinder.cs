using System.Globalization;
using Microsoft.Extensions.Configuration;
using Resilience.DependencyInjection;

namespace Resilience.Http;

/// <summary>The configuration keys of <see cref="HttpRoutingOptions"/>: lists of groups and endpoints, indexed 0, 1, 2, … as configuration lists are.</summary>
internal static class HttpRoutingBinder
{
    public static readonly OptionsSchema<HttpEndpoint> Endpoint = new(
        ("Uri", static (o, k, e) => o.Uri = Uri(k, e, o.Uri)),
        ("Weight", static (o, k, e) => o.Weight = OptionsValue.Double(k, e, o.Weight)));

    public static readonly OptionsSchema<HttpEndpointGroup> Group = new(
        ("Weight", static (o, k, e) => o.Weight = OptionsValue.Double(k, e, o.Weight)),
        ("Endpoints", static (o, k, e) => List(k, e, o.Endpoints, Endpoint, static (k, e) => new HttpEndpoint { Uri = Uri(k, e, null) })));

    public static readonly OptionsSchema<HttpRoutingOptions> Routing = new(
        ("Mode", static (o, k, e) => o.Mode = OptionsValue.Enum(k, e, o.Mode)),
        ("Groups", static (o, k, e) => List(k, e, o.Groups, Group, null)));

    /// <summary>Binds a list: each child is an index holding a section (or, where <paramref name="fromValue"/> is given, a plain value).</summary>
    /// <remarks>The bound items replace the list's: configuration says what the list is, as a reload would.</remarks>
    private static void List<T>(IConfigurationSection key, OptionsErrors errors, IList<T> target, OptionsSchema<T> schema, Func<IConfigurationSection, OptionsErrors, T>? fromValue)
        where T : class, new()
    {
        if (!string.IsNullOrEmpty(key.Value))
        {
            errors.Add(key.Path, $"'{key.Value}' is a value; expected a list (keys 0, 1, 2, …).");
            return;
        }

        target.Clear();
        foreach (var child in key.GetChildren())
        {
            if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                errors.Add(child.Path, "unknown key; expected a list index (0, 1, 2, …).");
            }
            else if (fromValue is not null && !string.IsNullOrEmpty(child.Value))
            {
                target.Add(fromValue(child, errors));
            }
            else
            {
                var item = new T();
                OptionsValue.Section(child, errors, item, schema);
                target.Add(item);
            }
        }
    }

    private static Uri? Uri(IConfigurationSection key, OptionsErrors errors, Uri? current)
    {
        var text = OptionsValue.String(key, errors, string.Empty);
        if (text.Length == 0)
        {
            return current;
        }

        if (!System.Uri.TryCreate(text, UriKind.RelativeOrAbsolute, out var uri))
        {
            errors.Add(key.Path, $"'{text}' is not a URI.");
            return current;
        }

        return uri;
    }
}
