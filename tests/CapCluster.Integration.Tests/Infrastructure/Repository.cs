using System.Diagnostics;

namespace CapCluster.Integration.Tests.Infrastructure;

/// <summary>The repository this test run belongs to, and its published binaries (built once per run).</summary>
internal static class Repository
{
    private static readonly Lazy<string> AppFolderLazy = new(BuildApps);

    public static string Root { get; } = FindRoot();

    /// <summary>artifacts/app, with capcontroller, capengine, capcluster and furlgen in it.</summary>
    public static string AppFolder => AppFolderLazy.Value;

    public static string App(string name) => Path.Combine(AppFolder, name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CapCluster.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find CapCluster.sln above " + AppContext.BaseDirectory);
    }

    private static string BuildApps()
    {
        using var build = Process.Start(new ProcessStartInfo(Path.Combine(Root, "scripts", "build-apps"))
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var errors = build.StandardError.ReadToEnd();
        if (!build.WaitForExit(TimeSpan.FromMinutes(10)) || build.ExitCode != 0)
        {
            throw new InvalidOperationException("scripts/build-apps failed: " + errors);
        }

        return Path.Combine(Root, "artifacts", "app");
    }
}
