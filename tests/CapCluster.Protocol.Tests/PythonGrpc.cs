using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;

namespace CapCluster.Protocol.Tests;

/// <summary>Runs Debian's python3-grpcio as the reference gRPC implementation.</summary>
internal static class PythonGrpc
{
    private static readonly Lazy<string?> Interpreter = new(Find);

    public static string? Python => Interpreter.Value;

    public static string SkipReason => "python3-grpcio is not importable ('python3 -c \"import grpc\"' failed for /usr/bin/python3 and python3 on PATH)";

    /// <summary>Writes PEM files for the test CA, a certificate and its key into a fresh temp directory.</summary>
    public static string WritePem(X509Certificate2 ca, X509Certificate2 leaf)
    {
        var dir = Directory.CreateTempSubdirectory("capcluster-grpc-").FullName;
        File.WriteAllText(Path.Combine(dir, "ca.pem"), TestCertificates.Pem(ca));
        File.WriteAllText(Path.Combine(dir, "cert.pem"), TestCertificates.Pem(leaf));
        File.WriteAllText(Path.Combine(dir, "key.pem"), TestCertificates.KeyPem(leaf));
        return dir;
    }

    public static ProcessStartInfo StartInfo(string dir, string script, params string[] args)
    {
        var path = Path.Combine(dir, "script.py");
        File.WriteAllText(path, script);
        var info = new ProcessStartInfo(Python ?? throw new InvalidOperationException(SkipReason))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(path);
        info.ArgumentList.Add(dir);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var proxy in new[] { "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "grpc_proxy", "all_proxy", "ALL_PROXY" })
        {
            info.Environment.Remove(proxy);
        }

        return info;
    }

    /// <summary>Runs a script to the end and returns its standard output; fails with its standard error.</summary>
    public static async Task<string> RunAsync(string dir, string script, TimeSpan timeout, params string[] args)
    {
        using var process = Process.Start(StartInfo(dir, script, args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"python script did not finish within {timeout}: {await stderr}");
        }

        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"python script failed ({process.ExitCode}): {await stderr}\n{output}");
        }

        return output;
    }

    private static string? Find()
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using var process = Process.Start(new ProcessStartInfo(candidate, ["-c", "import grpc"])
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                    UseShellExecute = false,
                });
                if (process is null)
                {
                    continue;
                }

                if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
                {
                    process.Kill();
                    continue;
                }

                if (process.ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // Not installed at that path.
            }
        }

        return null;
    }
}

/// <summary>A fact that is skipped, with the reason, when python3-grpcio is not importable.</summary>
internal sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (PythonGrpc.Python is null)
        {
            Skip = PythonGrpc.SkipReason;
        }
    }
}
