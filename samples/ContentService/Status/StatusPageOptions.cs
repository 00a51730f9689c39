using System.ComponentModel.DataAnnotations;

namespace ContentService.Status;

/// <summary>How much history the status page keeps and how often it samples; bound from <c>StatusPage</c>.</summary>
internal sealed class StatusPageOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StatusPage";

    /// <summary>How often the pool is sampled for the chart. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Pool samples kept (the chart's width). Default 150, i.e. 5 minutes at 2 s.</summary>
    [Range(10, 10_000)]
    public int PoolSamples { get; set; } = 150;

    /// <summary>Transitions kept per breaker. Default 20.</summary>
    [Range(1, 1_000)]
    public int TransitionsPerBreaker { get; set; } = 20;

    /// <summary>How often the page asks for fresh data. Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.250", "00:05:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// When set, the page and its data need this key (<c>StatusPage__AccessKey</c> in the environment, at least 16
    /// characters): the page shows dependency states and costs an operator may not want public. Default: none (open).
    /// </summary>
    [MinLength(16)]
    public string? AccessKey { get; set; }
}
