using System.Net;

namespace Dashboard.Hosting;

/// <summary>Networks (CIDR) whose callers an endpoint answers without a credential: <c>/metrics</c>, and admission while it has no token.</summary>
internal static class NetworkAllowList
{
    public static readonly IReadOnlyList<string> Loopback = ["127.0.0.0/8", "::1/128"];

    public static bool AreValid(IEnumerable<string> networks) => networks.All(n => IPNetwork.TryParse(n, out _));

    /// <summary>Whether <paramref name="address"/> is in one of <paramref name="networks"/>; an unknown address (an in-process caller) is in none.</summary>
    public static bool Contains(IEnumerable<string> networks, IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return networks.Any(n => IPNetwork.TryParse(n, out var network) && network.Contains(address));
    }
}
