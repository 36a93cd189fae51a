namespace E2E.Infrastructure;

/// <summary>All browser tests share one running app and one browser; each test opens its own browser context.</summary>
[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardServer>
{
    public const string Name = "Dashboard";
}
