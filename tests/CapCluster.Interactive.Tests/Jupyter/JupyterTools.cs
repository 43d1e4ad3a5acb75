using System.Diagnostics;
using System.Text.Json;
using CapCluster.Integration.Tests.Infrastructure;

namespace CapCluster.Interactive.Tests.Jupyter;

/// <summary>
/// What a headless notebook run needs, made once per test run: the local feed (scripts/pack-feed), the
/// dotnet-interactive tool in artifacts/ and a kernelspec in a private JUPYTER_PATH that starts it with
/// --http-local-only. Jupyter itself comes from Debian (test.sh installs it).
/// </summary>
internal static class JupyterTools
{
    public const string ToolVersion = "1.0.712001";

    /// <summary>
    /// The test collection of the classes that run notebooks: one at a time, since every kernel started with
    /// --http-local-only binds the same port (2048).
    /// </summary>
    public const string Collection = "Jupyter notebooks";

    /// <summary>The name `dotnet interactive jupyter install` gives its C# kernel, which notebooks name.</summary>
    public const string KernelName = ".net-csharp";

    private static readonly TimeSpan SetUpTimeout = TimeSpan.FromMinutes(10);
    private static readonly Lazy<(string Feed, string JupyterPath)> Prepared = new(Prepare);

    public static string Feed => Prepared.Value.Feed;

    public static string JupyterPath => Prepared.Value.JupyterPath;

    private static (string, string) Prepare()
    {
        Require(File.Exists("/usr/bin/jupyter-nbconvert"), "jupyter-nbconvert");
        Require(Run("/usr/bin/python3", ["-c", "import nbclient, nbformat, jupyter_client, ipykernel"]).ExitCode == 0, "python3-nbclient python3-nbformat jupyter-client python3-ipykernel");

        var pack = Run(Path.Combine(Repository.Root, "scripts", "pack-feed"), []);
        Assert.True(pack.ExitCode == 0, "scripts/pack-feed failed: " + pack);
        var feed = pack.Output.Trim();

        var tools = Path.Combine(Repository.Root, "artifacts", "dotnet-interactive");
        var tool = Path.Combine(tools, "dotnet-interactive");
        if (!File.Exists(tool))
        {
            var install = Run("dotnet", ["tool", "install", "Microsoft.dotnet-interactive", "--version", ToolVersion, "--tool-path", tools]);
            Assert.True(install.ExitCode == 0, "dotnet tool install Microsoft.dotnet-interactive failed: " + install);
        }

        var jupyterPath = Path.Combine(Repository.Root, "artifacts", "jupyter");
        var spec = Path.Combine(jupyterPath, "kernels", KernelName);
        Directory.CreateDirectory(spec);
        File.WriteAllText(Path.Combine(spec, "kernel.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["argv"] = new[] { tool, "jupyter", "--default-kernel", "csharp", "--http-local-only", "{connection_file}" },
            ["display_name"] = ".NET (C#), CapCluster tests",
            ["language"] = "C#",
        }));
        return (feed, jupyterPath);
    }

    private static void Require(bool present, string packages) =>
        Assert.True(present, $"missing Debian packages {packages}: ./test.sh installs them when run as root");

    public static ProcessResult Run(string program, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? SetUpTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout ?? SetUpTimeout}");
        }

        return new ProcessResult(process.ExitCode, output.Result, error.Result);
    }
}
