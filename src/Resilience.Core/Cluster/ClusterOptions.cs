namespace Resilience.Cluster;

/// <summary>Configures a <see cref="ClusterCoordinator"/>: how often it talks to the store and when the cluster acts together.</summary>
/// <remarks>
/// Bindable from configuration (keys are the property names): <c>InstanceId</c>, <c>SyncInterval</c>, <c>LeaseTime</c>,
/// <c>VoteWindow</c>, <c>Quorum</c>, <c>StoreTimeout</c>. Invalid values make the coordinator's constructor throw
/// <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> listing every error (<see cref="ClusterOptionsValidator"/>).
/// </remarks>
public sealed class ClusterOptions
{
    /// <summary>Gets or sets this instance's name in the cluster.</summary>
    /// <value>Default: <see langword="null"/>, the machine name, the process id and a random suffix.</value>
    public string? InstanceId { get; set; }

    /// <summary>Gets or sets how often the coordinator exchanges state with the store (a heartbeat, votes, breaker states, quota).</summary>
    /// <value>Default: 1 second. Range: 10 ms to 1 minute. A remote transition arrives sooner: a notification starts a round at once.</value>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how long an instance counts as alive after its last heartbeat; a crashed instance's votes and probe lease lapse after it.</summary>
    /// <value>Default: 5 seconds. At least twice <see cref="SyncInterval"/>.</value>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how long an instance's vote ("this breaker failed here") counts towards the quorum.</summary>
    /// <value>Default: 30 seconds. At least <see cref="SyncInterval"/>.</value>
    public TimeSpan VoteWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how many live instances must have seen a breaker open before it opens on every instance.</summary>
    /// <value>Default: <see langword="null"/>, a majority of the live instances. When set: 1 or more (capped at the live count).</value>
    public int? Quorum { get; set; }

    /// <summary>Gets or sets how long one exchange with the store may take before the coordinator falls back to local state.</summary>
    /// <value>Default: 2 seconds. Range: 10 ms to 1 minute.</value>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
