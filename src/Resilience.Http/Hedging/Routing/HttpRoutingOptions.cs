namespace Resilience.Http;

/// <summary>How hedged requests pick their endpoint group.</summary>
public enum HttpRoutingMode
{
    /// <summary>In order: the first attempt goes to the first group, each hedged copy to the next (failover).</summary>
    Ordered,

    /// <summary>By weight: each attempt of a round picks one of the groups it has not used yet, in proportion to their weights.</summary>
    Weighted,
}

/// <summary>
/// Endpoint groups hedged requests are sent to, as in Microsoft's standard hedging handler: each attempt of a hedged
/// request goes to an endpoint of one group, with the request's scheme, host and port replaced and its path and query kept.
/// </summary>
/// <remarks>
/// The primary attempt is routed too (list the request's own host first to keep it). Within a group an endpoint is picked
/// by its weight. With more attempts than groups, <see cref="HttpRoutingMode.Ordered"/> starts again at the first group.
/// Each attempt passes the circuit breaker of the endpoint it is sent to. Empty (the default): copies go to the request's URI.
/// </remarks>
public sealed class HttpRoutingOptions
{
    /// <summary>Gets or sets how a group is picked for each attempt.</summary>
    /// <value>Defaults to <see cref="HttpRoutingMode.Ordered"/>.</value>
    public HttpRoutingMode Mode { get; set; } = HttpRoutingMode.Ordered;

    /// <summary>Gets the endpoint groups; at most 64.</summary>
    public IList<HttpEndpointGroup> Groups { get; } = new List<HttpEndpointGroup>();

    /// <summary>Gets or sets the random source of the weighted picks; set a seeded one to make them reproducible.</summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="System.Random.Shared"/>. Not bindable from configuration.</value>
    public Random? Random { get; set; }
}

/// <summary>A group of interchangeable endpoints.</summary>
public sealed class HttpEndpointGroup
{
    /// <summary>Gets or sets the group's weight in <see cref="HttpRoutingMode.Weighted"/> mode.</summary>
    /// <value>Defaults to 1; above 0.</value>
    public double Weight { get; set; } = 1;

    /// <summary>Gets the group's endpoints; at least one.</summary>
    public IList<HttpEndpoint> Endpoints { get; } = new List<HttpEndpoint>();
}

/// <summary>An endpoint: the base URI an attempt is sent to.</summary>
public sealed class HttpEndpoint
{
    /// <summary>Gets or sets the endpoint's address: an absolute <c>http</c> or <c>https</c> URI with no path or query (<c>https://eu.api.example:8443</c>).</summary>
    public Uri? Uri { get; set; }

    /// <summary>Gets or sets the endpoint's weight within its group.</summary>
    /// <value>Defaults to 1; above 0.</value>
    public double Weight { get; set; } = 1;
}
