using System.CommandLine;
using CapCluster.Security;

namespace CapCluster.Tools;

/// <summary>
/// The <c>--profile</c> option, how the launcher's and the console's messages name a profile, and the flag that selects it
/// in a command they suggest.
/// </summary>
public static class ProfileText
{
    /// <summary>
    /// <c>--profile NAME</c>, refused at parsing when NAME could not name a folder (<see cref="ClusterPaths.IsProfileName"/>),
    /// so the error is a usage error and not an exception.
    /// </summary>
    public static Option<string?> Option(bool recursive)
    {
        var option = new Option<string?>("--profile") { Description = "Use ~/.capcluster/profile_NAME", Recursive = recursive };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name && !ClusterPaths.IsProfileName(name))
            {
                result.AddError($"--profile '{name}': a profile name is one folder name (no '/', not '.' or '..')");
            }
        });
        return option;
    }

    /// <summary>"the default profile" or "profile NAME".</summary>
    public static string Name(string? profile) => profile is null ? "the default profile" : $"profile {profile}";

    /// <summary>" --profile NAME", or nothing for the default profile: appended to a suggested command.</summary>
    public static string Flag(string? profile) => profile is null ? string.Empty : $" --profile {profile}";
}
