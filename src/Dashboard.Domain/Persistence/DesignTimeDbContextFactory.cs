using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Dashboard.Domain.Persistence;

/// <summary>
/// Lets <c>dotnet ef</c> build the model without starting the web host: SQLite by default, PostgreSQL after
/// <c>-- --provider PostgreSQL</c> (no server is needed to add a migration).
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<DashboardDbContext>
{
    public DashboardDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<DashboardDbContext>();
        var provider = args.SkipWhile(a => a != "--provider").Skip(1).FirstOrDefault();
        if (string.Equals(provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            options.UseDashboardPostgreSql("Host=localhost;Database=dashboard_design");
        }
        else
        {
            options.UseDashboardSqlite(Path.Combine(Path.GetTempPath(), "dashboard-design.db"));
        }

        return new DashboardDbContext(options.Options);
    }
}
