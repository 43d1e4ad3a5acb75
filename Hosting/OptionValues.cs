using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace CapCluster.Hosting;

/// <summary>
/// How the command-line programs read numbers from their options: a value that does not parse is refused naming the
/// option as the user typed it, the value, and what it must be (<c>-n abc: must be a whole number, 0 or more</c>),
/// where System.CommandLine's own message names the .NET type (<c>System.Int32</c>). No reflection: the launcher and
/// the controller are native programs.
/// </summary>
public static class OptionValues
{
    /// <summary>What a port option takes, where 0 asks for a random free port.</summary>
    public const string AnyPort = "a whole number from 0 to 65535 (0: a random free port)";

    /// <summary>What an option in seconds takes.</summary>
    public const string Seconds = "a number of seconds, such as 30 or 0.5";

    private const string Whole = "a whole number";

    /// <summary>
    /// Gives every number option of <paramref name="command"/> and its subcommands that has no parser of its own one
    /// that refuses a value as <see cref="OptionValues"/> says; an option given words of its own by an <c>Expect</c>
    /// before keeps them.
    /// </summary>
    public static TCommand WithNumberErrors<TCommand>(this TCommand command)
        where TCommand : Command
    {
        foreach (var option in command.Options)
        {
            _ = option switch
            {
                Option<int> o => o.Expect(Whole),
                Option<int?> o => o.Expect(Whole),
                Option<long> o => o.Expect(Whole),
                Option<long?> o => o.Expect(Whole),
                Option<uint[]> o => o.Expect("a whole number, 0 or more"),
                Option<double> o => o.Expect("a number"),
                Option<double?> o => o.Expect("a number"),
                _ => option,
            };
        }

        foreach (var subcommand in command.Subcommands)
        {
            subcommand.WithNumberErrors();
        }

        return command;
    }

    /// <summary>Makes each of <paramref name="ports"/> refuse a value that is not a port, saying it must be <see cref="AnyPort"/>.</summary>
    public static void ExpectPorts(params Option<int>[] ports)
    {
        foreach (var port in ports)
        {
            port.Expect(AnyPort, 0, 65535);
        }
    }

    /// <summary>Refuses a value that is not a whole number from <paramref name="min"/> to <paramref name="max"/>, saying it must be <paramref name="what"/>.</summary>
    public static Option<int> Expect(this Option<int> option, string what, int min = int.MinValue, int max = int.MaxValue)
    {
        option.CustomParser ??= result => Last(result, what, text => Int(text, min, max)) ?? 0;
        return option;
    }

    /// <inheritdoc cref="Expect(Option{int}, string, int, int)"/>
    public static Option<int?> Expect(this Option<int?> option, string what, int min = int.MinValue, int max = int.MaxValue)
    {
        option.CustomParser ??= result => Last(result, what, text => Int(text, min, max));
        return option;
    }

    /// <summary>Refuses a value that is not a whole number, saying it must be <paramref name="what"/>.</summary>
    public static Option<long> Expect(this Option<long> option, string what)
    {
        option.CustomParser ??= result => Last(result, what, Long) ?? 0;
        return option;
    }

    /// <inheritdoc cref="Expect(Option{long}, string)"/>
    public static Option<long?> Expect(this Option<long?> option, string what)
    {
        option.CustomParser ??= result => Last(result, what, Long);
        return option;
    }

    /// <summary>Refuses a value that is not a finite number, saying it must be <paramref name="what"/>.</summary>
    public static Option<double> Expect(this Option<double> option, string what)
    {
        option.CustomParser ??= result => Last(result, what, Double) ?? 0;
        return option;
    }

    /// <inheritdoc cref="Expect(Option{double}, string)"/>
    public static Option<double?> Expect(this Option<double?> option, string what)
    {
        option.CustomParser ??= result => Last(result, what, Double);
        return option;
    }

    /// <summary>Refuses a value, of those given, that is not a whole number of 0 or more, saying it must be <paramref name="what"/>.</summary>
    public static Option<uint[]> Expect(this Option<uint[]> option, string what)
    {
        option.CustomParser ??= result =>
        {
            var values = new uint[result.Tokens.Count];
            for (var i = 0; i < values.Length; i++)
            {
                if (uint.TryParse(result.Tokens[i].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    values[i] = value;
                }
                else
                {
                    Refuse(result, result.Tokens[i].Value, what);
                    return [];
                }
            }

            return values;
        };
        return option;
    }

    /// <summary>The value of the option's token, or null after refusing it.</summary>
    private static T? Last<T>(ArgumentResult result, string what, Func<string, T?> read)
        where T : struct
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        if (read(text) is { } value)
        {
            return value;
        }

        Refuse(result, text, what);
        return null;
    }

    private static void Refuse(ArgumentResult result, string text, string what)
    {
        var typed = result.Parent is OptionResult option ? option.IdentifierToken?.Value ?? option.Option.Name : "the value";
        result.AddError($"{typed} {text}: must be {what}");
    }

    private static int? Int(string text, int min, int max) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max ? value : null;

    private static long? Long(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static double? Double(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value : null;
}
