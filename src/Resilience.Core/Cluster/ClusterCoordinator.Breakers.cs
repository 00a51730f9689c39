namespace Resilience.Cluster;

/// <content>
/// The shared breakers' part of a round: publish votes and probe results, read every breaker's shared state in one query,
/// then open on a quorum, follow the cluster's openings and closings, and lease the one probe of a break ending.
/// </content>
public sealed partial class ClusterCoordinator
{
    private string[] _names = [];

    private async Task SyncBreakersAsync(CancellationToken cancellationToken)
    {
        var links = _links;
        if (links.Length == 0)
        {
            return;
        }

        if (_names.Length != links.Length)
        {
            var names = new string[links.Length];
            for (var i = 0; i < links.Length; i++)
            {
                names[i] = links[i].Breaker.Name;
            }

            _names = names;
        }

        foreach (var link in links)
        {
            await VoteAsync(link, cancellationToken).ConfigureAwait(false);
            if (link.TakeProbeOutcome(out var epoch, out var succeeded, out var nextBreak))
            {
                var after = await _store.PublishProbeResultAsync(link.Breaker.Name, epoch, succeeded, nextBreak, cancellationToken).ConfigureAwait(false);
                if (after != 0)
                {
                    // The local breaker already moved on its own probe; it follows the result it published.
                    link.Applied = after;
                    link.Followed = succeeded ? 0 : after;
                }
            }
        }

        var records = await _store.ReadBreakersAsync(_names, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < links.Length; i++)
        {
            await ApplyAsync(links[i], records[i], cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ApplyAsync(ClusterBreakerLink link, ClusterBreakerRecord record, CancellationToken cancellationToken)
    {
        var breaker = link.Breaker;
        if (!record.IsOpen)
        {
            if (link.Followed != 0)
            {
                // The cluster's probe succeeded on another instance (or the opening was withdrawn).
                link.Followed = 0;
                breaker.CloseFromCluster();
            }

            if (ClusterQuorum.IsReached(record.Votes, record.Live, Options.Quorum))
            {
                var breakDuration = breaker.Settings.BreakDuration;
                var epoch = await _store.TryOpenAsync(breaker.Name, record.Epoch, breakDuration, cancellationToken).ConfigureAwait(false);
                if (epoch != 0)
                {
                    ClusterLog.BreakerOpened(_logger, breaker.Name, record.Votes, record.Live);
                    Follow(link, epoch, breakDuration, breakDuration);
                }
            }

            return;
        }

        if (record.Epoch != link.Applied)
        {
            Follow(link, record.Epoch, record.BreakLeft, record.Break);
        }

        // The break ends within a round: take the probe now, so the instance that has it is ready when it does.
        if (record.BreakLeft <= Options.SyncInterval && link.ProbeEpoch != record.Epoch && link.Followed == record.Epoch)
        {
            var ttl = breaker.Settings.ProbeTimeout > Options.LeaseTime ? breaker.Settings.ProbeTimeout : Options.LeaseTime;
            if (await _store.TryLeaseProbeAsync(breaker.Name, record.Epoch, InstanceId, ttl, cancellationToken).ConfigureAwait(false))
            {
                link.ProbeEpoch = record.Epoch;
                ClusterLog.ProbeLeased(_logger, breaker.Name, InstanceId, record.Epoch);
            }
        }
    }

    /// <summary>
    /// Publishes this instance's vote: on an opening by its own counts, as ever, and also (an early vote) while its streak of
    /// consecutive failures is at least the threshold divided by the quorum, withdrawn when a success ends the streak. So a
    /// quorum failing together opens the cluster when their failures add up to about one instance's threshold, not a
    /// threshold each; one instance's local fault still opens no other (the others' streaks stay at 0).
    /// </summary>
    private async ValueTask VoteAsync(ClusterBreakerLink link, CancellationToken cancellationToken)
    {
        var breaker = link.Breaker;
        var threshold = breaker.Settings.FailureThreshold;
        var required = ClusterQuorum.Required(_live, Options.Quorum);
        var at = (threshold + required - 1) / required;
        link.EarlyVoteAt = required > 1 && at < threshold ? at : 0;
        if (link.TakeVote())
        {
            await _store.VoteAsync(breaker.Name, InstanceId, Options.VoteWindow, cancellationToken).ConfigureAwait(false);
            link.EarlyVote = false;
            return;
        }

        var streak = link.TakeStreak();
        if (!link.EarlyVote && link.EarlyVoteAt > 0 && streak >= link.EarlyVoteAt)
        {
            await _store.VoteAsync(breaker.Name, InstanceId, Options.VoteWindow, cancellationToken).ConfigureAwait(false);
            link.EarlyVote = true;
        }
        else if (link.EarlyVote && streak < at && link.Followed == 0 && breaker.State == CircuitBreaking.CircuitState.Closed)
        {
            // The streak ended in a success: the early vote lapses now (a vote that expires at once), not after the vote window.
            await _store.VoteAsync(breaker.Name, InstanceId, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            link.EarlyVote = false;
        }
    }

    private static void Follow(ClusterBreakerLink link, long epoch, TimeSpan breakLeft, TimeSpan breakDuration)
    {
        link.Applied = epoch;
        link.Followed = epoch;
        var minimum = TimeSpan.FromMilliseconds(1);
        link.Breaker.OpenFromCluster(breakLeft > minimum ? breakLeft : minimum, breakDuration);
    }
}
