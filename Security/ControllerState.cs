using System.Text.Json;
using CapCluster.Security.Internal;
using System.Text.Json.Serialization;

namespace CapCluster.Security;

/// <summary>
/// What a running (or last) controller left in its security folder: its pid and the
/// ports it served, so that <c>--reuse</c> can take the same ports again and the
/// launcher can find and stop it. Written atomically, 0600.
/// </summary>
public sealed record ControllerState(
    int Pid,
    string Host,
    string ListenAddress,
    int EnginePort,
    int ClientPort,
    IReadOnlyList<string> Locations,
    DateTimeOffset Started,
    int DataPort = 0)
{
    /// <summary>File name inside the security folder.</summary>
    public const string FileName = "controller.json";

    /// <summary>The state file of a security folder.</summary>
    public static string PathIn(string securityFolder) => Path.Combine(securityFolder, FileName);

    /// <summary>Reads the state, or null when the controller never ran here.</summary>
    /// <exception cref="CapClusterException">The file exists but cannot be read.</exception>
    public static ControllerState? TryRead(string securityFolder)
    {
        var path = PathIn(securityFolder);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), ControllerStateJson.Default.ControllerState)
                ?? throw new JsonException("empty document");
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw Unreadable(path, e);
        }
    }

    /// <summary>
    /// The pid alone, or null when the controller never ran here (or the state names none): read with the JSON reader,
    /// not the serializer, whose first use cost the launcher about 50 ms. The launcher checks it before it starts a
    /// controller, and the controller's start waits for that check.
    /// </summary>
    /// <exception cref="CapClusterException">The file exists but cannot be read.</exception>
    public static int? TryReadPid(string securityFolder)
    {
        var path = PathIn(securityFolder);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(File.ReadAllBytes(path));
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("pid"u8))
                {
                    return reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var pid)
                        ? pid
                        : throw new JsonException("its pid is not a number");
                }
            }

            return null; // as the serializer reads it: pid 0, no controller
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            throw Unreadable(path, e);
        }
    }

    private static CapClusterException Unreadable(string path, Exception e) =>
        new($"{path}: cannot read the controller state ({e.Message}); delete it and start the controller again", e);

    /// <summary>
    /// The state as it can be read now, or null when there is none or it cannot be read (for those who wait for a
    /// controller to write it, and look again).
    /// </summary>
    public static ControllerState? TryReadNow(string securityFolder)
    {
        try
        {
            return TryRead(securityFolder);
        }
        catch (CapClusterException)
        {
            return null;
        }
    }

    /// <summary>Writes the state atomically (temporary file, then rename), mode 0600.</summary>
    public void Write(string securityFolder) =>
        SecureFile.WriteAtomic(PathIn(securityFolder), JsonSerializer.Serialize(this, ControllerStateJson.Default.ControllerState));
}
