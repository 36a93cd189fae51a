using System.Net;
using Dashboard.Domain.Registry;

namespace Dashboard.Tests.Registry;

/// <summary>
/// Issue 12, finding 6: every documented cloud metadata address is refused at connect time (the guard runs on resolved
/// addresses, before a socket connects), even where loopback is allowed. One row per address of the guard's table.
/// </summary>
public sealed class OutboundGuardTests
{
    private static readonly string[] Addresses =
    [
        "169.254.169.254", // AWS, GCP, Azure, DigitalOcean, OpenStack, Oracle, Hetzner
        "169.254.0.23",    // Tencent Cloud
        "fe80::1",
        "fd00:ec2::254",   // AWS over IPv6
        "100.100.100.200", // Alibaba Cloud
        "192.0.0.192",     // Oracle Cloud
        "168.63.129.16",   // Azure WireServer
        "0.0.0.0",
        "::",
    ];

    public static TheoryData<string> Refused => new(Addresses);

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_metadata_or_link_local_address_is_refused_before_connecting(string address)
    {
        var guard = new OutboundGuard(allowLoopback: true);
        var refused = await Assert.ThrowsAsync<OutboundRefusedException>(() => guard.ConnectAsync(new DnsEndPoint(address, 80), default).AsTask());
        Assert.Contains("never connects to link-local or cloud metadata addresses", refused.Message);
    }

    [Fact]
    public void Every_row_of_the_guards_table_has_an_address_in_this_test()
    {
        var guard = new OutboundGuard(allowLoopback: true);
        var addresses = Addresses.Select(IPAddress.Parse).ToList();
        foreach (var (what, _, _) in OutboundGuard.AlwaysRefused)
        {
            Assert.Contains(addresses, a => guard.Check(a)?.Contains(what, StringComparison.Ordinal) == true);
        }

        // Neighbours of the single addresses stay reachable: the table names endpoints, not whole provider networks.
        Assert.Null(guard.Check(IPAddress.Parse("100.100.100.201")));
        Assert.Null(guard.Check(IPAddress.Parse("192.0.0.193")));
    }
}
