using System.Net;
using System.Net.Sockets;

namespace Dashboard.Domain.Registry;

/// <summary>
/// Decides which addresses the dashboard may connect to. It runs at connect time on the resolved addresses, so a
/// name that resolves to a forbidden address (DNS rebinding) is refused as well as a literal one.
/// </summary>
public sealed class OutboundGuard(bool allowLoopback)
{
    /// <summary>
    /// Addresses the dashboard never connects to, whatever a tag or webhook names: link-local ranges, "this host", and
    /// every documented cloud metadata endpoint (one row each, so a new cloud is one line here and one in the test).
    /// </summary>
    public static readonly IReadOnlyList<(string What, IPAddress Network, int Prefix)> AlwaysRefused =
    [
        ("IPv4 link-local, with the metadata of AWS, GCP, Azure, DigitalOcean, OpenStack, Oracle, Hetzner and Tencent (169.254.169.254, 169.254.0.23)",
            IPAddress.Parse("169.254.0.0"), 16),
        ("IPv6 link-local", IPAddress.Parse("fe80::"), 10),
        ("AWS instance metadata over IPv6 (fd00:ec2::254)", IPAddress.Parse("fd00:ec2::"), 32),
        ("Alibaba Cloud instance metadata", IPAddress.Parse("100.100.100.200"), 32),
        ("Oracle Cloud instance metadata (its IPv4 alternative)", IPAddress.Parse("192.0.0.192"), 32),
        ("Azure's platform endpoint (WireServer)", IPAddress.Parse("168.63.129.16"), 32),
        ("\"this host\": connecting to it reaches the machine itself", IPAddress.Parse("0.0.0.0"), 8),
        ("\"::\", the same for IPv6", IPAddress.IPv6Any, 128),
    ];

    /// <returns>Why connecting to <paramref name="address"/> is refused, or <c>null</c> when it is allowed.</returns>
    public string? Check(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (AlwaysRefused.FirstOrDefault(r => InRange(address, r.Network, r.Prefix)) is { What: not null } refused)
        {
            return $"{address} is refused ({refused.What}); the dashboard never connects to link-local or cloud metadata addresses.";
        }

        if (IPAddress.IsLoopback(address) && !allowLoopback)
        {
            return $"{address} is a loopback address; set Dashboard:Registries:AllowLoopback to import from this machine.";
        }

        return null;
    }

    /// <summary>
    /// A handler whose every connection goes through this guard: no automatic redirects (callers decide what follows a
    /// redirect), no cookies, and no proxy — a proxy would make the guard check the proxy's address instead of the target's.
    /// </summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        ConnectCallback = (context, ct) => ConnectAsync(context.DnsEndPoint, ct),
    };

    /// <summary>Resolves <paramref name="host"/> and connects to its first allowed address.</summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endPoint, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, ct);
        var refusals = addresses.Select(a => (Address: a, Problem: Check(a))).ToList();
        var allowed = refusals.Where(r => r.Problem is null).Select(r => r.Address).ToArray();
        if (allowed.Length == 0)
        {
            throw new OutboundRefusedException(refusals.Select(r => r.Problem).FirstOrDefault()
                ?? $"{endPoint.Host} has no address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, endPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static bool InRange(IPAddress address, IPAddress network, int prefix)
    {
        if (address.AddressFamily != network.AddressFamily)
        {
            return false;
        }

        var a = address.GetAddressBytes();
        var n = network.GetAddressBytes();
        for (var bit = 0; bit < prefix; bit++)
        {
            var mask = 0x80 >> (bit % 8);
            if ((a[bit / 8] & mask) != (n[bit / 8] & mask))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>A connection the <see cref="OutboundGuard"/> refused.</summary>
public sealed class OutboundRefusedException(string message) : Exception(message);
