namespace Resilience.Cluster;

/// <summary>How many live instances must have seen a breaker fail before it opens for all of them.</summary>
internal static class ClusterQuorum
{
    /// <summary>The votes needed among <paramref name="live"/> instances: <paramref name="quorum"/> when set (at most <paramref name="live"/>), else a majority.</summary>
    public static int Required(int live, int? quorum)
    {
        live = Math.Max(1, live);
        return quorum is { } q ? Math.Clamp(q, 1, live) : (live / 2) + 1;
    }

    /// <summary>Whether <paramref name="votes"/> of <paramref name="live"/> instances open the breaker for the cluster.</summary>
    public static bool IsReached(int votes, int live, int? quorum) => votes > 0 && votes >= Required(live, quorum);
}
