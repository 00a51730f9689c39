namespace Resilience.Npgsql.Cluster;

/// <summary>The cluster store's statements: one round trip each; times are the server's, so instances never compare clocks.</summary>
internal static class PostgresClusterSql
{
    public const string Channel = "resilience_cluster";

    // Concurrent first starts of several instances would race on CREATE TABLE IF NOT EXISTS: one lock orders them.
    public const string Schema = """
        BEGIN;
        SELECT pg_advisory_xact_lock(7412596312);
        CREATE TABLE IF NOT EXISTS resilience_cluster_instance (id text PRIMARY KEY, expires_at timestamptz NOT NULL);
        CREATE TABLE IF NOT EXISTS resilience_cluster_vote (
            breaker text NOT NULL, instance text NOT NULL, expires_at timestamptz NOT NULL, PRIMARY KEY (breaker, instance));
        CREATE TABLE IF NOT EXISTS resilience_cluster_breaker (
            name text PRIMARY KEY, epoch bigint NOT NULL, open boolean NOT NULL, open_until timestamptz, break_ms bigint NOT NULL,
            probe_holder text, probe_epoch bigint NOT NULL DEFAULT 0, probe_until timestamptz);
        CREATE TABLE IF NOT EXISTS resilience_cluster_quota_lease (
            name text NOT NULL, window_no bigint NOT NULL, instance text NOT NULL, taken bigint NOT NULL, unused bigint NOT NULL,
            last_grant bigint NOT NULL, PRIMARY KEY (name, window_no, instance));
        CREATE TABLE IF NOT EXISTS resilience_cluster_budget (name text PRIMARY KEY, units bigint NOT NULL, last_grant bigint NOT NULL);
        COMMIT;
        """;

    public const string Listen = "LISTEN " + Channel;

    // $1 instance, $2 ttl ms. The statement's snapshot does not see its own upsert: count the others, plus this one.
    public const string Heartbeat = """
        WITH up AS (
            INSERT INTO resilience_cluster_instance (id, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
            ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at)
        SELECT 1 + count(*)::int FROM resilience_cluster_instance WHERE expires_at > now() AND id <> $1
        """;

    // $1 instance: its heartbeat, its votes and its probe lease go at once.
    public const string Leave = """
        WITH v AS (DELETE FROM resilience_cluster_vote WHERE instance = $1),
             p AS (UPDATE resilience_cluster_breaker SET probe_until = now() WHERE probe_holder = $1)
        DELETE FROM resilience_cluster_instance WHERE id = $1
        """;

    // $1 breaker, $2 instance, $3 ttl ms.
    public const string Vote = """
        INSERT INTO resilience_cluster_vote (breaker, instance, expires_at) VALUES ($1, $2, now() + $3 * interval '1 millisecond')
        ON CONFLICT (breaker, instance) DO UPDATE SET expires_at = excluded.expires_at
        """;

    // $1 breaker names. Votes count only from live instances, and only while the vote is within its window.
    public const string ReadBreakers = """
        SELECT n.name, coalesce(b.epoch, 0), coalesce(b.open, false),
               coalesce((extract(epoch FROM b.open_until - now()) * 1000)::bigint, 0), coalesce(b.break_ms, 0),
               (SELECT count(*)::int FROM resilience_cluster_vote v
                  JOIN resilience_cluster_instance i ON i.id = v.instance AND i.expires_at > now()
                 WHERE v.breaker = n.name AND v.expires_at > now()),
               (SELECT count(*)::int FROM resilience_cluster_instance WHERE expires_at > now())
          FROM unnest($1::text[]) WITH ORDINALITY AS n(name, ord)
          LEFT JOIN resilience_cluster_breaker b ON b.name = n.name
         ORDER BY n.ord
        """;

    // $1 breaker, $2 epoch seen closed, $3 break ms. Only the first instance to see the quorum opens it; the others lose the race.
    public const string Open = """
        WITH up AS (
            INSERT INTO resilience_cluster_breaker AS b (name, epoch, open, open_until, break_ms)
            VALUES ($1, $2 + 1, true, now() + $3 * interval '1 millisecond', $3)
            ON CONFLICT (name) DO UPDATE SET epoch = b.epoch + 1, open = true, open_until = excluded.open_until, break_ms = excluded.break_ms
            WHERE b.epoch = $2 AND NOT b.open
            RETURNING b.epoch)
        SELECT epoch, pg_notify('resilience_cluster', $1) FROM up
        """;

    // $1 breaker, $2 epoch, $3 instance, $4 ttl ms. One holder per opening, until its lease lapses (a crashed holder).
    public const string LeaseProbe = """
        UPDATE resilience_cluster_breaker
           SET probe_holder = $3, probe_epoch = $2, probe_until = now() + $4 * interval '1 millisecond'
         WHERE name = $1 AND open AND epoch = $2
           AND (probe_epoch < $2 OR probe_until IS NULL OR probe_until < now() OR probe_holder = $3)
        RETURNING 1
        """;

    // $1 breaker, $2 epoch. The probe succeeded: closed for all, and the votes of the outage cleared.
    public const string ProbeSucceeded = """
        WITH up AS (
            UPDATE resilience_cluster_breaker SET open = false, open_until = NULL, probe_holder = NULL
             WHERE name = $1 AND epoch = $2 AND open RETURNING epoch),
             v AS (DELETE FROM resilience_cluster_vote WHERE breaker = $1 AND EXISTS (SELECT 1 FROM up))
        SELECT epoch, pg_notify('resilience_cluster', $1) FROM up
        """;

    // $1 breaker, $2 epoch, $3 next break ms. The probe failed: a new opening for all.
    public const string ProbeFailed = """
        WITH up AS (
            UPDATE resilience_cluster_breaker
               SET epoch = epoch + 1, open_until = now() + $3 * interval '1 millisecond', break_ms = $3, probe_holder = NULL
             WHERE name = $1 AND epoch = $2 AND open RETURNING epoch)
        SELECT epoch, pg_notify('resilience_cluster', $1) FROM up
        """;

    // $1 limiter. Sent in one batch before LeaseQuota: the batch is one implicit transaction, so the lock holds until the
    // lease is written, and LeaseQuota (a statement of its own, with a snapshot taken after the lock) sees every earlier lease.
    public const string LockQuota = "SELECT pg_advisory_xact_lock(hashtextextended('resilience_cluster_quota:' || $1, 0))";

    // $1 limiter, $2 limit, $3 window ms, $4 wanted, $5 instance, $6 permits it holds unused. A live instance's leases count
    // whole; a dead one's (heartbeat lapsed) count only what it had used at its last lease: its unused permits go back.
    public const string LeaseQuota = """
        WITH w AS (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms),
             old AS (DELETE FROM resilience_cluster_quota_lease WHERE name = $1 AND window_no < (SELECT ms FROM w) / $3 - 1),
             counted AS (
                SELECT coalesce(sum(CASE WHEN q.instance = $5 OR i.expires_at > now() THEN q.taken ELSE q.taken - q.unused END), 0) AS n
                  FROM resilience_cluster_quota_lease q LEFT JOIN resilience_cluster_instance i ON i.id = q.instance
                 WHERE q.name = $1 AND q.window_no = (SELECT ms FROM w) / $3)
        INSERT INTO resilience_cluster_quota_lease AS q (name, window_no, instance, taken, unused, last_grant)
        SELECT $1, w.ms / $3, $5, g.n, g.n, g.n FROM w, (SELECT GREATEST(0, LEAST($4, $2 - (SELECT n FROM counted))) AS n) g
        ON CONFLICT (name, window_no, instance) DO UPDATE
           SET taken = q.taken + excluded.taken, unused = LEAST(q.taken, $6) + excluded.taken, last_grant = excluded.taken
        RETURNING window_no, last_grant, $3 - ((SELECT ms FROM w) % $3)
        """;

    // $1 budget, $2 cap, $3 deposited, $4 wanted (units). The bucket starts full; the row lock of the upsert orders concurrent leases.
    public const string LeaseBudget = """
        INSERT INTO resilience_cluster_budget AS b (name, units, last_grant)
        VALUES ($1, $2 - LEAST($4, $2), LEAST($4, $2))
        ON CONFLICT (name) DO UPDATE
           SET units = LEAST($2, b.units + $3) - LEAST($4, LEAST($2, b.units + $3)),
               last_grant = LEAST($4, LEAST($2, b.units + $3))
        RETURNING last_grant
        """;

    // $1 limiter, $2 window, $3 instance, $4 unused.
    public const string ReturnQuota = """
        UPDATE resilience_cluster_quota_lease SET taken = GREATEST(0, taken - $4), unused = 0
         WHERE name = $1 AND window_no = $2 AND instance = $3
        """;
}
