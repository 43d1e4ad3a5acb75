using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using CapCluster.Security.Tests.Infrastructure;

namespace CapCluster.Security.Tests;

public sealed class CapabilityFileTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly CertificateAuthority _ca = CertificateAuthority.CreateEphemeral();

    public void Dispose()
    {
        _ca.Dispose();
        _folder.Dispose();
    }

    private CapabilityFile NewFile(string iface = CapabilityInterfaces.Task)
    {
        var holder = _ca.IssueHolderCertificate("cap_filetest", iface, null);
        var url = new CapabilityUrl(_ca.Fingerprint, [new("controller.example", 5000), new("::1", 5001)], iface, CapabilitySecret.Create());
        return new CapabilityFile(url, holder, _ca.Certificate);
    }

    private string WriteFile(CapabilityFile file, string name = "task.cap")
    {
        var path = _folder.File(name);
        file.Write(path, "alice's laptop", new DateTimeOffset(2027, 1, 2, 3, 4, 5, TimeSpan.Zero));
        return path;
    }

    private static CapabilityFileException ReadFails(string path, string text)
    {
        CapCluster.Tests.Shared.PrivateFile.Write(path, text);
        return Assert.Throws<CapabilityFileException>(() => CapabilityFile.Read(path));
    }

    [Fact]
    public void AFileSavedWithAByteOrderMark_ReadsAsTheSameCapability()
    {
        var original = NewFile();
        var path = WriteFile(original);
        CapCluster.Tests.Shared.PrivateFile.Write(path, "\uFEFF" + File.ReadAllText(path));

        var read = CapabilityFile.Read(path);

        Assert.Equal(original.Url.ToString(), read.Url.ToString());
        Assert.Equal(original.HolderCertificate.Thumbprint, read.HolderCertificate.Thumbprint);
    }

    [Fact]
    public void WriteThenRead_RoundTripsEverythingAndFileIsOwnerOnly()
    {
        var original = NewFile();
        var path = WriteFile(original);

        var read = CapabilityFile.Read(path);

        Assert.Equal(original.Url, read.Url);
        Assert.Equal("cap_filetest", read.CapabilityId);
        Assert.Equal(CapabilityInterfaces.Task, read.Interface);
        Assert.Equal(original.HolderCertificate.RawData, read.HolderCertificate.RawData);
        Assert.Equal(_ca.Certificate.RawData, read.CaCertificate.RawData);
        Assert.True(read.HolderCertificate.HasPrivateKey);
        Assert.True(_ca.ValidateClientCertificate(read.HolderCertificate).IsValid);
        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(path, FileModes.OwnerReadWrite));
        Assert.Empty(Directory.GetFiles(_folder.Path, "*.tmp"));
    }

    [Fact]
    public void Read_HolderKeyActuallySigns_WhatItsCertificateSays()
    {
        var read = CapabilityFile.Read(WriteFile(NewFile()));
        using var privateKey = read.HolderCertificate.GetECDsaPrivateKey()!;
        using var publicKey = read.HolderCertificate.GetECDsaPublicKey()!;
        var data = "challenge"u8.ToArray();
        Assert.True(publicKey.VerifyData(data, privateKey.SignData(data, System.Security.Cryptography.HashAlgorithmName.SHA256),
            System.Security.Cryptography.HashAlgorithmName.SHA256));
        // The PKCS#12-loaded form is what SslStream needs as a client certificate.
        var context = SslStreamCertificateContext.Create(read.HolderCertificate, null, offline: true);
        Assert.NotNull(context.TargetCertificate);
    }

    [Fact]
    public void Write_OverExistingReadableFile_LeavesOwnerOnlyFile()
    {
        var path = _folder.File("task.cap");
        File.WriteAllText(path, "old");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        NewFile().Write(path);

        Assert.Equal(FileModes.OwnerReadWrite, FileModes.Of(path, FileModes.OwnerReadWrite));
        Assert.Equal("cap_filetest", CapabilityFile.Read(path).CapabilityId);
    }

    [Fact]
    public void ToText_HeaderSaysWhatItGrantsAndHowToKeepIt()
    {
        var lines = NewFile(CapabilityInterfaces.Engine).ToText("node 7", null).Split('\n');

        Assert.StartsWith("# CapCluster capability: engine (", lines[0]);
        Assert.Matches(@"^# id cap_filetest, label node 7, issued \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, expires never$", lines[1]);
        Assert.Equal("# Anyone holding this file has this authority. Keep it private (mode 0600); revoke it with furlgen if it leaks.", lines[2]);
        Assert.StartsWith("capcluster://", lines[3]);
    }

    [Fact]
    public void Read_CopiedToAnotherFolder_StillReads()
    {
        var path = WriteFile(NewFile());
        using var elsewhere = new TempFolder();
        var copy = elsewhere.File("renamed.cap");
        File.Copy(path, copy);

        Assert.Equal("cap_filetest", CapabilityFile.Read(copy).CapabilityId);
    }

    [Fact]
    public void WithLocations_WritesAndReadsBackNewLocations()
    {
        var moved = NewFile().WithLocations([new("10.9.8.7", 6000)]);
        var read = CapabilityFile.Read(WriteFile(moved));
        Assert.Equal([new CapabilityLocation("10.9.8.7", 6000)], read.Url.Locations);
    }

    [Fact]
    public void Read_MissingFile_SaysSo()
    {
        var path = _folder.File("nope.cap");
        var error = Assert.Throws<CapabilityFileException>(() => CapabilityFile.Read(path));
        Assert.Equal(path, error.FilePath);
        Assert.Equal("no such file", error.Problem);
        Assert.StartsWith(path + ": no such file", error.Message);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, "644")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.GroupRead, "440")]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite, "602")]
    public void Read_FileOthersMayRead_IsRefusedWithTheChmodThatFixesIt(UnixFileMode mode, string octal)
    {
        var path = WriteFile(NewFile());
        File.SetUnixFileMode(path, mode);

        var error = Assert.Throws<CapabilityFileException>(() => CapabilityFile.Read(path));

        Assert.Contains($"mode {octal}", error.Problem);
        Assert.Contains($"run `chmod 600 {path}`", error.Problem);
    }

    [Fact]
    public async Task Read_ANamedPipe_IsRefusedAtOnceAsNotARegularFile()
    {
        var path = _folder.File("pipe.cap");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", ["-m", "600", path]))
            await mkfifo.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

        // Opening a pipe waits for a writer: a reader that opens it before looking never returns.
        var error = await Assert.ThrowsAsync<CapabilityFileException>(() => Task.Run(() => CapabilityFile.Read(path)).WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.StartsWith("it is a named pipe (FIFO), not a regular file; give the path of the .cap file", error.Problem);
    }

    [Fact]
    public void Read_ADevice_IsRefusedAsNotARegularFile_NotToldToChmodIt()
    {
        var error = Assert.Throws<CapabilityFileException>(() => CapabilityFile.Read("/dev/null"));

        Assert.StartsWith("it is a character device, not a regular file", error.Problem);
        Assert.DoesNotContain("chmod", error.Message);
    }

    [Fact]
    public void Read_FileOver64KiB_IsRefusedBeforeParsing()
    {
        var path = WriteFile(NewFile());
        CapCluster.Tests.Shared.PrivateFile.Write(path, File.ReadAllText(path) + new string('#', 70_000));

        var error = Assert.Throws<CapabilityFileException>(() => CapabilityFile.Read(path));

        Assert.Contains("larger than 64 KiB", error.Problem);
    }

    [Fact]
    public void Read_TwoDifferentUrlLines_IsRefused_TheSameLineTwiceIsNot()
    {
        var file = NewFile();
        var path = WriteFile(file);
        var text = File.ReadAllText(path);
        var url = file.Url.ToString();
        var other = url.Replace(file.Url.Secret, CapabilitySecret.Create(), StringComparison.Ordinal);

        Assert.Contains("two different capability URL lines", ReadFails(path, text.Replace(url, url + "\n" + other, StringComparison.Ordinal)).Problem);
        CapCluster.Tests.Shared.PrivateFile.Write(path, text.Replace(url, url + "\n" + url, StringComparison.Ordinal));
        Assert.Equal(file.CapabilityId, CapabilityFile.Read(path).CapabilityId);
    }

    [Fact]
    public void Read_EditedUrlFingerprint_IsDetected()
    {
        var file = NewFile();
        var path = WriteFile(file);
        var fingerprint = file.Url.CaFingerprint;
        var edited = (fingerprint[0] == 'a' ? "b" : "a") + fingerprint[1..];

        var error = ReadFails(path, File.ReadAllText(path).Replace(fingerprint + "@", edited + "@"));

        Assert.Equal(path, error.FilePath);
        Assert.Equal("the URL's controller fingerprint does not match the CA certificate in the file (edited?)", error.Problem);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Read_SecretWithWrongLength_ReportsMalformedUrlWithoutSecret()
    {
        var file = NewFile();
        var path = WriteFile(file);
        var secret = file.Url.Secret;

        var error = ReadFails(path, File.ReadAllText(path).Replace("/" + secret, "/" + secret[..40]));

        Assert.Equal(path, error.FilePath);
        Assert.StartsWith("malformed capability URL:", error.Problem);
        Assert.Contains("secret must be 52 base32 characters, found 40", error.Problem);
        Assert.DoesNotContain(secret[..40], error.Message);
    }

    [Fact]
    public void Read_SwappedCaCertificate_IsDetected()
    {
        var path = WriteFile(NewFile());
        using var other = CertificateAuthority.CreateEphemeral();
        var text = File.ReadAllText(path).Replace(_ca.Certificate.ExportCertificatePem(), other.Certificate.ExportCertificatePem());

        var error = ReadFails(path, text);

        Assert.Equal("the URL's controller fingerprint does not match the CA certificate in the file (edited?)", error.Problem);
    }

    [Fact]
    public void Read_SwappedCaCertificateAndUrlFingerprint_HolderNotSignedByIt()
    {
        var file = NewFile();
        var path = WriteFile(file);
        using var other = CertificateAuthority.CreateEphemeral();
        var text = File.ReadAllText(path)
            .Replace(_ca.Certificate.ExportCertificatePem(), other.Certificate.ExportCertificatePem())
            .Replace(file.Url.CaFingerprint + "@", other.Fingerprint + "@");

        var error = ReadFails(path, text);

        Assert.Equal("the holder certificate was not issued by the CA certificate in the file", error.Problem);
    }

    [Fact]
    public void Read_TruncatedKey_IsDetected()
    {
        var path = WriteFile(NewFile());
        var text = File.ReadAllText(path);
        var key = Regex.Match(text, "-----BEGIN PRIVATE KEY-----\n(?<body>[^-]+)-----END PRIVATE KEY-----");
        var body = key.Groups["body"].Value;

        var truncated = ReadFails(path, text.Replace(body, body[..(body.Length / 2)] + "\n"));
        Assert.Contains("private key", truncated.Problem);
        Assert.Equal(path, truncated.FilePath);

        var cutOff = ReadFails(path, text[..(key.Index + 40)]);
        Assert.Contains("private key block is truncated", cutOff.Problem);
    }

    [Fact]
    public void Read_KeyFromAnotherCapability_DoesNotMatchCertificate()
    {
        var path = WriteFile(NewFile());
        var otherPath = WriteFile(NewFile(), "other.cap");
        var keyPattern = new Regex("-----BEGIN PRIVATE KEY-----[^-]+-----END PRIVATE KEY-----");
        var otherKey = keyPattern.Match(File.ReadAllText(otherPath)).Value;

        var error = ReadFails(path, keyPattern.Replace(File.ReadAllText(path), otherKey));

        Assert.Equal("the private key does not match the holder certificate", error.Problem);
    }

    [Fact]
    public void Read_UrlInterfaceChanged_IsDetected()
    {
        var path = WriteFile(NewFile(CapabilityInterfaces.Task));

        var error = ReadFails(path, File.ReadAllText(path).Replace("/task/", "/multiengine/"));

        Assert.Equal("the URL grants 'multiengine' but the holder certificate was issued for 'task' (edited?)", error.Problem);
    }

    [Fact]
    public void Read_NoUrlLine_IsDetected()
    {
        var path = WriteFile(NewFile());
        var text = string.Join('\n', File.ReadAllText(path).Split('\n').Where(l => !l.StartsWith("capcluster://")));

        Assert.Equal("no capability URL line (capcluster://...) before the certificates", ReadFails(path, text).Problem);
    }

    [Fact]
    public void Read_CaCertificateRemoved_IsDetected()
    {
        var path = WriteFile(NewFile());
        var text = File.ReadAllText(path).Replace(_ca.Certificate.ExportCertificatePem(), "");

        Assert.Equal("the CA certificate block is missing", ReadFails(path, text).Problem);
    }

    [Fact]
    public void Read_GarbledHolderCertificate_IsDetected()
    {
        var file = NewFile();
        var path = WriteFile(file);
        var pem = file.HolderCertificate.ExportCertificatePem();
        // Valid base64, but the DER inside is damaged.
        var damaged = pem.Replace(pem.Split('\n')[2], new string('A', pem.Split('\n')[2].Length));

        var error = ReadFails(path, File.ReadAllText(path).Replace(pem, damaged));

        Assert.StartsWith("the holder certificate", error.Problem);
    }
}
