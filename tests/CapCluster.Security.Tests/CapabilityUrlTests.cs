namespace CapCluster.Security.Tests;

public sealed class CapabilityUrlTests
{
    private static readonly string Fingerprint = new string('a', 50) + "27";
    private static readonly string Secret = CapabilitySecret.Create();

    private static string Url(string locations = "host.example:5000", string iface = "task", string? secret = null, string? fingerprint = null) =>
        $"capcluster://{fingerprint ?? Fingerprint}@{locations}/{iface}/{secret ?? Secret}";

    [Fact]
    public void Parse_ThenToString_RoundTripsSeveralLocationsIncludingIpv6()
    {
        var text = Url("node1.example:5000,10.0.0.7:5001,[::1]:5002,[fe80::1:2]:65535");

        var url = CapabilityUrl.Parse(text);

        Assert.Equal(Fingerprint, url.CaFingerprint);
        Assert.Equal(
            [new("node1.example", 5000), new("10.0.0.7", 5001), new("::1", 5002), new CapabilityLocation("fe80::1:2", 65535)],
            url.Locations);
        Assert.Equal(CapabilityInterfaces.Task, url.Interface);
        Assert.Equal(Secret, url.Secret);
        Assert.Equal(text, url.ToString());
        Assert.Equal(url, CapabilityUrl.Parse(url.ToString()));
    }

    [Fact]
    public void Equals_ComparesLocationsByContent()
    {
        var a = new CapabilityUrl(Fingerprint, [new("h", 1), new("k", 2)], "engine", Secret);
        var b = new CapabilityUrl(Fingerprint, new List<CapabilityLocation> { new("h", 1), new("k", 2) }, "engine", Secret);
        var c = new CapabilityUrl(Fingerprint, [new("k", 2), new("h", 1)], "engine", Secret);

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void WithLocations_ReplacesOnlyLocations()
    {
        var url = CapabilityUrl.Parse(Url());
        var moved = url.WithLocations([new("[::1]".Trim('[', ']'), 7000)]);
        Assert.Equal($"capcluster://{Fingerprint}@[::1]:7000/task/{Secret}", moved.ToString());
        Assert.Equal(url.Secret, moved.Secret);
        Assert.Throws<ArgumentException>(() => url.WithLocations([]));
    }

    [Fact]
    public void CapabilityLocation_ToString_BracketsIpv6()
    {
        Assert.Equal("[2001:db8::5]:80", new CapabilityLocation("2001:db8::5", 80).ToString());
        Assert.Equal("10.1.1.1:80", CapabilityLocation.Parse("10.1.1.1:80").ToString());
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { Url().Replace("capcluster://", "https://"), "must start with 'capcluster://'" },
        { Url(fingerprint: new string('a', 51)), "controller fingerprint must be 52 base32 characters, found 51" },
        { Url(fingerprint: new string('a', 51) + "1"), "controller fingerprint has '1' at position 52" },
        { Url(fingerprint: new string('A', 52)), "outside the base32 alphabet" },
        { Url().Replace(Fingerprint + "@", ""), "no '<controller fingerprint>@'" },
        { Url(""), "no controller location" },
        { Url("host.example:5000,"), "empty location" },
        { Url("host.example"), "has no port" },
        { Url("host.example:0"), "port '0' is not a number from 1 to 65535" },
        { Url("host.example:65536"), "port '65536' is not a number from 1 to 65535" },
        { Url("host.example:12ab"), "port '12ab'" },
        { Url("::1:5000"), "IPv6 address must be in brackets" },
        { Url("[::1]"), "has no port" },
        { Url("[not-v6]:80"), "is not an IPv6 address" },
        { Url("bad_host!:80"), "is not a valid host name" },
        { Url(iface: "admin"), "unknown interface 'admin'" },
        { Url(secret: Secret[..51]), "secret must be 52 base32 characters, found 51" },
        { Url(secret: Secret[..51] + "8"), "secret has '8' at position 52" },
        { Url() + "/extra", "found 3 path segment(s)" },
        { $"capcluster://{Fingerprint}@h:1", "no '/<interface>/<secret>'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Parse_Malformed_SaysWhatIsWrong(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => CapabilityUrl.Parse(text));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Parse_Malformed_NeverEchoesTheSecretInTheMessage()
    {
        var error = Assert.Throws<FormatException>(() => CapabilityUrl.Parse(Url(iface: "admin")));
        Assert.DoesNotContain(Secret, error.Message);
    }
}
