using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class CertificateAuthorityTests
{
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    [Fact]
    public void LoadOrCreate_ThenLoadAgain_KeepsFingerprintAndKeyIsOwnerOnly()
    {
        using var folder = new TempFolder();
        string fingerprint;
        using (var created = CertificateAuthority.LoadOrCreate(folder.Path))
            fingerprint = created.Fingerprint;
        using var loaded = CertificateAuthority.LoadOrCreate(folder.Path);

        Assert.Equal(fingerprint, loaded.Fingerprint);
        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(folder.File("ca.key"), FileModes.OwnerReadWrite));
        Assert.Contains("-----BEGIN PRIVATE KEY-----", File.ReadAllText(folder.File("ca.key")));
        Assert.False(loaded.Certificate.HasPrivateKey);
    }

    [Fact]
    public void LoadOrCreate_LoadedCa_ValidatesHolderCertificateIssuedBeforeRestart()
    {
        using var folder = new TempFolder();
        X509Certificate2 holder;
        using (var first = CertificateAuthority.LoadOrCreate(folder.Path))
            holder = first.IssueHolderCertificate("cap_restart", CapabilityInterfaces.Task, null);
        using var second = CertificateAuthority.LoadOrCreate(folder.Path);

        Assert.True(second.ValidateClientCertificate(holder).IsValid);
    }

    [Fact]
    public void LoadOrCreate_CorruptKey_NamesTheFile()
    {
        using var folder = new TempFolder();
        CertificateAuthority.LoadOrCreate(folder.Path).Dispose();
        File.WriteAllText(folder.File("ca.key"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");

        var error = Assert.Throws<CapClusterException>(() => CertificateAuthority.LoadOrCreate(folder.Path));
        Assert.Contains(folder.File("ca.key"), error.Message);
    }

    [Fact]
    public void LoadOrCreate_AKeyOthersMayRead_IsRefusedSayingHowToFixIt()
    {
        using var folder = new TempFolder();
        CertificateAuthority.LoadOrCreate(folder.Path).Dispose();
        File.SetUnixFileMode(folder.File("ca.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Throws<CapClusterException>(() => CertificateAuthority.LoadOrCreate(folder.Path));

        Assert.StartsWith($"{folder.File("ca.key")} may be read by other users (mode 644): whoever reads the CA key can make any capability", error.Message, StringComparison.Ordinal);
        Assert.Contains($"Run `chmod 600 {folder.File("ca.key")}`", error.Message, StringComparison.Ordinal);
        File.SetUnixFileMode(folder.File("ca.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        CertificateAuthority.LoadOrCreate(folder.Path).Dispose();
    }

    [Fact]
    public void LoadOrCreate_CertificateMissingButKeyPresent_RefusesToCreateNewCa()
    {
        using var folder = new TempFolder();
        CertificateAuthority.LoadOrCreate(folder.Path).Dispose();
        File.Delete(folder.File("ca.crt"));

        var error = Assert.Throws<CapClusterException>(() => CertificateAuthority.LoadOrCreate(folder.Path));
        Assert.Contains("ca.crt", error.Message);
    }

    [Fact]
    public void Fingerprint_Is52LowercaseBase32Characters()
    {
        using var ca = CertificateAuthority.CreateEphemeral();
        Assert.Matches("^[a-z2-7]{52}$", ca.Fingerprint);
        Assert.Equal(CapabilityFingerprint.Of(ca.Certificate), ca.Fingerprint);
    }

    [Fact]
    public void IssueHolderCertificate_HasCapabilityClientAuthOnlyAndPrivateKey()
    {
        var time = new ManualTime();
        using var ca = CertificateAuthority.CreateEphemeral(time: time);
        using var holder = ca.IssueHolderCertificate("cap_abc", CapabilityInterfaces.Engine, null);

        Assert.True(holder.HasPrivateKey);
        Assert.Equal("CN=capcluster engine cap_abc", holder.Subject);
        var eku = Assert.Single(holder.Extensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Equal([ClientAuth], eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        Assert.Equal(("cap_abc", "engine"), HolderCertificateExtension.Read(holder));
        Assert.Equal(time.GetUtcNow() - TimeSpan.FromMinutes(5), new DateTimeOffset(holder.NotBefore.ToUniversalTime()));
        Assert.True(holder.NotAfter.ToUniversalTime() > time.GetUtcNow().UtcDateTime.AddYears(99));
        Assert.Equal(32, holder.SerialNumber.Length);
    }

    [Fact]
    public void IssueHolderCertificate_TwoCertificates_HaveDifferentSerials()
    {
        using var ca = CertificateAuthority.CreateEphemeral();
        using var a = ca.IssueHolderCertificate("cap_a", CapabilityInterfaces.Task, null);
        using var b = ca.IssueHolderCertificate("cap_a", CapabilityInterfaces.Task, null);
        Assert.NotEqual(a.SerialNumber, b.SerialNumber);
    }

    [Fact]
    public void ValidateClientCertificate_HolderFromThisCa_IsValidWithCapability()
    {
        using var ca = CertificateAuthority.CreateEphemeral();
        using var holder = ca.IssueHolderCertificate("cap_ok", CapabilityInterfaces.MultiEngine, null);

        var check = ca.ValidateClientCertificate(holder);

        Assert.True(check.IsValid, check.Reason);
        Assert.Null(check.Reason);
        Assert.Equal("cap_ok", check.CapabilityId);
        Assert.Equal(CapabilityInterfaces.MultiEngine, check.Interface);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(holder.RawData)), check.CertificateFingerprint);
        Assert.False(check.Expired);
    }

    [Fact]
    public void ValidateClientCertificate_Null_IsRefused()
    {
        using var ca = CertificateAuthority.CreateEphemeral();
        var check = ca.ValidateClientCertificate(null);
        Assert.False(check.IsValid);
        Assert.Equal("no client certificate was presented", check.Reason);
        Assert.Null(check.CertificateFingerprint);
    }

    [Fact]
    public void ValidateClientCertificate_FromAnotherCa_IsRefusedWithFingerprint()
    {
        using var ours = CertificateAuthority.CreateEphemeral();
        using var theirs = CertificateAuthority.CreateEphemeral();
        using var holder = theirs.IssueHolderCertificate("cap_x", CapabilityInterfaces.Task, null);

        var check = ours.ValidateClientCertificate(holder);

        Assert.False(check.IsValid);
        Assert.Equal("the client certificate was not issued by this controller's CA", check.Reason);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(holder.RawData)), check.CertificateFingerprint);
        Assert.Null(check.CapabilityId);
    }

    [Fact]
    public void ValidateClientCertificate_LookAlikeCaWithSameName_IsRefused()
    {
        // Same CA name, so the forged holder has exactly the genuine subject and issuer names.
        using var ours = CertificateAuthority.CreateEphemeral("CapCluster controller CA");
        using var forger = CertificateAuthority.CreateEphemeral("CapCluster controller CA");
        using var genuine = ours.IssueHolderCertificate("cap_same", CapabilityInterfaces.Engine, null);
        using var forged = forger.IssueHolderCertificate("cap_same", CapabilityInterfaces.Engine, null);
        Assert.Equal(genuine.Subject, forged.Subject);
        Assert.Equal(genuine.Issuer, forged.Issuer);

        var check = ours.ValidateClientCertificate(forged);

        Assert.False(check.IsValid);
        Assert.Equal("the client certificate was not issued by this controller's CA", check.Reason);
    }

    [Fact]
    public void ValidateClientCertificate_SelfSignedWithCaSubjectAndIssuer_IsRefused()
    {
        using var ca = CertificateAuthority.CreateEphemeral("CapCluster controller CA");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(ca.Certificate.SubjectName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuth)], false));
        request.CertificateExtensions.Add(HolderCertificateExtension.Create("cap_evil", CapabilityInterfaces.Engine));
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1));
        Assert.Equal(ca.Certificate.Subject, selfSigned.Subject);
        Assert.Equal(ca.Certificate.Issuer, selfSigned.Issuer);

        var check = ca.ValidateClientCertificate(selfSigned);

        Assert.False(check.IsValid);
        Assert.Equal("the client certificate was not issued by this controller's CA", check.Reason);
        Assert.Null(check.CapabilityId);
    }

    [Fact]
    public void ValidateClientCertificate_AfterNotAfter_IsRefusedAsExpired()
    {
        var time = new ManualTime();
        using var ca = CertificateAuthority.CreateEphemeral(time: time);
        var notAfter = time.GetUtcNow().AddHours(1);
        using var holder = ca.IssueHolderCertificate("cap_short", CapabilityInterfaces.Task, notAfter);
        Assert.True(ca.ValidateClientCertificate(holder).IsValid);

        time.Advance(TimeSpan.FromHours(2));
        var check = ca.ValidateClientCertificate(holder);

        Assert.False(check.IsValid);
        Assert.True(check.Expired);
        Assert.Equal("the client certificate expired at 2026-03-01T13:00:00Z", check.Reason);
        Assert.Equal("cap_short", check.CapabilityId);
    }

    [Fact]
    public void ValidateClientCertificate_WithoutCapabilityExtension_IsRefused()
    {
        using var ca = CertificateAuthority.CreateEphemeral();
        using var server = ca.IssueServerCertificate(["example.org"], TimeSpan.FromDays(1));

        // A server certificate is from this CA but is neither for clientAuth nor carries a capability.
        var check = ca.ValidateClientCertificate(server);

        Assert.False(check.IsValid);
        Assert.Equal("the client certificate is not allowed for client authentication", check.Reason);
    }

    [Fact]
    public void ValidateClientCertificate_SignedByCaButWithoutCapability_IsRefused()
    {
        using var folder = new TempFolder();
        using var ca = CertificateAuthority.LoadOrCreate(folder.Path);
        using var caKey = ECDsa.Create();
        caKey.ImportFromPem(File.ReadAllText(folder.File("ca.key")));
        using var caWithKey = ca.Certificate.CopyWithPrivateKey(caKey);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=capcluster engine cap_plain", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuth)], false));
        using var plain = request.Create(caWithKey, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);

        var check = ca.ValidateClientCertificate(plain);

        Assert.False(check.IsValid);
        Assert.Equal("the client certificate carries no capability", check.Reason);
    }

    [Fact]
    public void IssueServerCertificate_SanHasNamesAddressesAndLoopback()
    {
        using var ca = CertificateAuthority.CreateEphemeral();
        using var server = ca.IssueServerCertificate(["node7.cluster", "10.1.2.3", "fe80::1"], TimeSpan.FromDays(30));

        Assert.True(server.HasPrivateKey);
        var san = Assert.Single(server.Extensions.OfType<X509SubjectAlternativeNameExtension>());
        Assert.Equal(["node7.cluster", "localhost"], san.EnumerateDnsNames().ToArray());
        Assert.Equal(
            new[] { "10.1.2.3", "fe80::1", "127.0.0.1", "::1" }.Select(IPAddress.Parse),
            san.EnumerateIPAddresses().ToArray());
        var eku = Assert.Single(server.Extensions.OfType<X509EnhancedKeyUsageExtension>());
        Assert.Equal(["1.3.6.1.5.5.7.3.1"], eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value));
        Assert.True(server.MatchesHostname("node7.cluster"));
    }
}
