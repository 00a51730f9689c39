namespace Resilience.AdaptiveConcurrency;

/// <summary>How much a call matters when capacity is short; set it on the call's context with <see cref="AdaptiveConcurrencyLimiter.PriorityKey"/>.</summary>
public enum CallPriority
{
    /// <summary>A normal call: it may use the whole limit and waits in the queue behind critical calls.</summary>
    Normal = 0,

    /// <summary>A call that must land (a health check, a write): it may use the whole limit and goes to the front of the queue.</summary>
    Critical = 1,

    /// <summary>A call that can be dropped first (a prefetch, a retry of a cheap read): it may use only <see cref="AdaptiveConcurrencyOptions.SheddableShare"/> of the limit and never queues.</summary>
    Sheddable = 2,
}
