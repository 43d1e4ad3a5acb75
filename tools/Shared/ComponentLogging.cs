using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Extensions.Logging;

namespace CapCluster.Hosting;

/// <summary>
/// The executables' Serilog set-up: one file per process in the log folder,
/// <c>&lt;component&gt;-&lt;pid&gt;.log</c>. Libraries only see <see cref="ILoggerFactory"/>.
/// </summary>
internal static class ComponentLogging
{
    public static string FileFor(string logFolder, string component, int processId) =>
        Path.Combine(logFolder, $"{component}-{processId}.log");

    public static ILoggerFactory Create(string component, string logFolder)
    {
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .Enrich.WithProperty("Component", component)
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            .WriteTo.File(
                FileFor(logFolder, component, Environment.ProcessId),
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                flushToDiskInterval: TimeSpan.FromSeconds(1))
            .CreateLogger();
        return new SerilogLoggerFactory(logger, dispose: true);
    }

    /// <summary>Detached processes ignore the terminal's hang-up; they stop on SIGTERM or when told to.</summary>
    public static IDisposable IgnoreHangup() =>
        System.Runtime.InteropServices.PosixSignalRegistration.Create(
            System.Runtime.InteropServices.PosixSignal.SIGHUP, context => context.Cancel = true);
}
