using Resilience.Testing;
using Xunit.Abstractions;

[assembly: TestCollectionOrderer("Resilience.Npgsql.Tests.Infrastructure.PostgresLaneFirst", "Resilience.Npgsql.Tests")]

namespace Resilience.Npgsql.Tests.Infrastructure;

/// <summary>
/// Starts the <see cref="PostgresTests"/> collection first, the others after it in xUnit's own order: that collection is the
/// run's longest lane (its classes one after another, about 80 s of CI), and started after three classes that own a server
/// it began 26-45 s late (2026-12-07).
/// </summary>
public sealed class PostgresLaneFirst : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
    {
        var all = testCollections.ToList();
        return all.Where(static c => c.DisplayName == PostgresTests.Name).Concat(all.Where(static c => c.DisplayName != PostgresTests.Name));
    }
}
