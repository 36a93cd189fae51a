using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Dashboard.Domain.Access;
using Dashboard.Domain.Persistence;
using Dashboard.Domain.PullSecrets;
using Dashboard.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Dashboard.Domain.Users;
using Dashboard.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace Dashboard.Tests.Components;

/// <summary>
/// bunit with MudBlazor and the real domain services on a SQLite file. Disposed asynchronously: MudBlazor's
/// services are only IAsyncDisposable.
/// </summary>
public abstract class ConsoleContext : BunitContext, IAsyncLifetime
{
    private readonly TestDatabase _database = TestDatabase.Create();
    private readonly BunitAuthorizationContext _auth;

    /// <summary>
    /// Pages read the real database (PostgreSQL in the second pass, on 2 cores shared with other test classes): a second
    /// wait was seen to run out while the answer was on its way, so waits last up to 10 s (a passing wait ends at once).
    /// </summary>
    static ConsoleContext() => DefaultWaitTimeout = TimeSpan.FromSeconds(10);

    protected ConsoleContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(TimeProvider.System);
        Services.AddDashboardDomain(options => _database.Configure(options));
        Services.AddOptions();
        Services.AddSingleton<IDataProtectionProvider>(new EphemeralDataProtectionProvider());
        Services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        _auth = AddAuthorization();
    }

    public async Task InitializeAsync() => await Services.MigrateDashboardDatabaseAsync();

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Adds a user row and signs the rendered components in as that user.</summary>
    protected async Task<Caller> SignInAsync(string userName, bool admin = false)
    {
        var id = Guid.NewGuid().ToString();
        await using (var db = await Services.GetRequiredService<IDbContextFactory<DashboardDbContext>>().CreateDbContextAsync())
        {
            db.Users.Add(new DashboardUser { Id = id, UserName = userName, NormalizedUserName = userName.ToUpperInvariant() });
            await db.SaveChangesAsync();
        }

        _auth.SetAuthorized(userName);
        _auth.SetRoles(admin ? [DashboardUser.AdminRole] : []);
        _auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, id));

        return new Caller(id, userName, admin);
    }
}
