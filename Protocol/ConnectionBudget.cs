using System.Net;

namespace CapCluster.Protocol;

/// <summary>
/// Counts the connections one port holds, per remote address and in all, and admits a new one only within
/// both limits. <see cref="TryTake"/> and <see cref="Release"/> come in pairs.
/// </summary>
/// <param name="what">What is counted, as a refusal names it ("connections on the client port").</param>
/// <param name="maxPerAddress">Most from one remote address.</param>
/// <param name="maxTotal">Most in all.</param>
/// <param name="perAddressOption">The option that sets <paramref name="maxPerAddress"/>, for the refusal's hint.</param>
/// <param name="totalOption">The option that sets <paramref name="maxTotal"/>, for the refusal's hint.</param>
public sealed class ConnectionBudget(string what, int maxPerAddress, int maxTotal, string perAddressOption, string totalOption)
{
    private readonly Lock sync = new();
    private readonly Dictionary<IPAddress, int> perAddress = [];
    private int total;

    /// <summary>Connections counted now.</summary>
    public int Count
    {
        get
        {
            lock (sync)
            {
                return total;
            }
        }
    }

    /// <summary>Counts one more from <paramref name="address"/> (null: unknown, counted in all only); null when admitted, else why not.</summary>
    public string? TryTake(IPAddress? address)
    {
        address = Normal(address);
        lock (sync)
        {
            if (total >= maxTotal)
            {
                return $"{maxTotal} {what} are open, the most allowed ({totalOption})";
            }

            var held = address is null ? 0 : perAddress.GetValueOrDefault(address);
            if (held >= maxPerAddress)
            {
                return $"{maxPerAddress} {what} from {address} are open, the most allowed from one address ({perAddressOption})";
            }

            total++;
            if (address is not null)
            {
                perAddress[address] = held + 1;
            }

            return null;
        }
    }

    /// <summary>Counts one fewer from <paramref name="address"/>, which <see cref="TryTake"/> admitted.</summary>
    public void Release(IPAddress? address)
    {
        address = Normal(address);
        lock (sync)
        {
            total--;
            if (address is not null && perAddress.TryGetValue(address, out var held))
            {
                if (held <= 1)
                {
                    perAddress.Remove(address);
                }
                else
                {
                    perAddress[address] = held - 1;
                }
            }
        }
    }

    private static IPAddress? Normal(IPAddress? address) => address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
