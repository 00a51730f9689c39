namespace Resilience.Http;

/// <summary>Picks the endpoint of each attempt of a routed request, from the validated groups.</summary>
internal sealed class HttpEndpointRouter
{
    public const int MaxGroups = 64;

    private readonly Group[] _groups;
    private readonly bool _weighted;
    private readonly Random _random;

    private HttpEndpointRouter(HttpRoutingOptions options)
    {
        _weighted = options.Mode == HttpRoutingMode.Weighted;
        _random = options.Random ?? Random.Shared;
        _groups = new Group[options.Groups.Count];
        for (var g = 0; g < _groups.Length; g++)
        {
            var source = options.Groups[g];
            var endpoints = new Uri[source.Endpoints.Count];
            var weights = new double[endpoints.Length];
            for (var e = 0; e < endpoints.Length; e++)
            {
                endpoints[e] = source.Endpoints[e].Uri!;
                weights[e] = source.Endpoints[e].Weight;
            }

            _groups[g] = new Group(source.Weight, endpoints, weights);
        }
    }

    /// <summary>The router of <paramref name="options"/>, or <see langword="null"/> when they list no group.</summary>
    public static HttpEndpointRouter? Create(HttpRoutingOptions options) => options.Groups.Count == 0 ? null : new HttpEndpointRouter(options);

    /// <summary>Picks the endpoint of hedged attempt <paramref name="hedgedAttempt"/> (0: the primary, which starts a round).</summary>
    public Uri Pick(HttpRoutingState state, int hedgedAttempt)
    {
        Group group;
        if (!_weighted)
        {
            group = _groups[hedgedAttempt % _groups.Length];
        }
        else
        {
            lock (state)
            {
                var all = _groups.Length == MaxGroups ? ulong.MaxValue : (1UL << _groups.Length) - 1;
                if (hedgedAttempt == 0 || (state.UsedGroups & all) == all)
                {
                    state.UsedGroups = 0;
                }

                var index = PickGroup(state.UsedGroups);
                state.UsedGroups |= 1UL << index;
                group = _groups[index];
            }
        }

        return group.Endpoints.Length == 1 ? group.Endpoints[0] : group.Endpoints[PickWeighted(group.Weights)];
    }

    private int PickGroup(ulong used)
    {
        var total = 0.0;
        for (var i = 0; i < _groups.Length; i++)
        {
            total += (used & (1UL << i)) == 0 ? _groups[i].Weight : 0;
        }

        var roll = Draw() * total;
        var last = -1;
        for (var i = 0; i < _groups.Length; i++)
        {
            if ((used & (1UL << i)) != 0)
            {
                continue;
            }

            last = i;
            roll -= _groups[i].Weight;
            if (roll < 0)
            {
                return i;
            }
        }

        return last;
    }

    private int PickWeighted(double[] weights)
    {
        var total = 0.0;
        foreach (var weight in weights)
        {
            total += weight;
        }

        var roll = Draw() * total;
        for (var i = 0; i < weights.Length; i++)
        {
            roll -= weights[i];
            if (roll < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private double Draw()
    {
        if (ReferenceEquals(_random, Random.Shared))
        {
            return _random.NextDouble();
        }

        // A caller's seeded source is not thread-safe.
        lock (_random)
        {
            return _random.NextDouble();
        }
    }

    /// <summary>The request's URI with the endpoint's scheme, host and port: path and query kept.</summary>
    public static Uri Rewrite(Uri original, Uri endpoint) =>
        new UriBuilder(original) { Scheme = endpoint.Scheme, Host = endpoint.Host, Port = endpoint.Port }.Uri;

    private sealed record Group(double Weight, Uri[] Endpoints, double[] Weights);
}

/// <summary>One routed request's state: its own URI, each attempt's target in the current round, and the groups the round used.</summary>
internal sealed class HttpRoutingState(Uri original, int attempts)
{
    public static readonly ResiliencePropertyKey<HttpRoutingState> Key = new("Resilience.Http.Routing");

    private readonly Uri?[] _targets = new Uri?[attempts];

    public Uri Original { get; } = original;

    /// <summary>The groups the current round used (weighted mode), one bit each.</summary>
    public ulong UsedGroups { get; set; }

    public void SetTarget(int hedgedAttempt, Uri target) => Volatile.Write(ref _targets[hedgedAttempt % _targets.Length], target);

    /// <summary>The target the routing layer chose for the attempt <paramref name="context"/> runs, or <see langword="null"/> when the request is not routed.</summary>
    public static Uri? TargetOf(ResilienceContext context) =>
        context.HasProperties && context.Properties.TryGetValue(Key, out var state)
            ? Volatile.Read(ref state._targets[context.HedgedAttempt % state._targets.Length])
            : null;
}
