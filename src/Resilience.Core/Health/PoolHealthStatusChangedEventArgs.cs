namespace Resilience.Health;

/// <summary>Describes a change of a pool's health status, raised by <see cref="PoolHealthMonitor.StatusChanged"/>.</summary>
public sealed class PoolHealthStatusChangedEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="name">The monitor's name.</param>
    /// <param name="previousStatus">The status before the check.</param>
    /// <param name="report">The report of the check that changed the status.</param>
    public PoolHealthStatusChangedEventArgs(string name, PoolHealthStatus previousStatus, PoolHealthReport report)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(report);
        Name = name;
        PreviousStatus = previousStatus;
        Report = report;
    }

    /// <summary>Gets the monitor's name.</summary>
    public string Name { get; }

    /// <summary>Gets the status before the change.</summary>
    public PoolHealthStatus PreviousStatus { get; }

    /// <summary>Gets the report with the new status.</summary>
    public PoolHealthReport Report { get; }
}
