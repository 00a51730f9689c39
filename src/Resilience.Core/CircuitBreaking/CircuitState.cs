using System.Text.Json.Serialization;

namespace Resilience.CircuitBreaking;

/// <summary>The state of a circuit breaker.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CircuitState>))]
public enum CircuitState
{
    /// <summary>Calls flow; outcomes are counted.</summary>
    Closed = 0,

    /// <summary>Calls are rejected until the break duration has elapsed.</summary>
    Open = 1,

    /// <summary>The break has elapsed; a limited number of probe calls decide whether the circuit closes.</summary>
    HalfOpen = 2,

    /// <summary>Held open manually by <see cref="CircuitBreaker.Isolate"/> until <see cref="CircuitBreaker.Reset"/>.</summary>
    Isolated = 3,
}
