using System.CommandLine;
using CapCluster.Hosting;

namespace CapCluster.Hosting.Tests;

/// <summary>
/// A number option's value that does not parse is refused naming the option as typed, the value and what it must be,
/// never the .NET type (System.CommandLine's own words: "Cannot parse argument 'abc' for option '-n' as expected type
/// 'System.Int32'"), and the program ends with a code that is not 0, without a stack trace.
/// </summary>
public sealed class OptionValuesTests
{
    [Theory]
    [InlineData("start -n abc", "-n abc: must be a whole number, 0 or more (0: the controller alone)")]
    [InlineData("start --engines -1", "--engines -1: must be a whole number, 0 or more")]
    [InlineData("start --engine-port http", "--engine-port http: must be " + OptionValues.AnyPort)]
    [InlineData("start --engine-port 70000", "--engine-port 70000: must be " + OptionValues.AnyPort)]
    [InlineData("start --timeout 5m", "--timeout 5m: must be " + OptionValues.Seconds)]
    [InlineData("start --timeout NaN", "--timeout NaN: must be " + OptionValues.Seconds)]
    [InlineData("start --audit-segment-bytes 1e6", "--audit-segment-bytes 1e6: must be a whole number")]
    [InlineData("start --batch 1.5", "--batch 1.5: must be a whole number")]
    [InlineData("start --uid 1000 --uid -1", "--uid -1: must be a whole number, 0 or more")]
    [InlineData("start --wait 1,5", "--wait 1,5: must be a number")]
    [InlineData("logs --lines ten", "--lines ten: must be a whole number")]
    public void AValueThatDoesNotParse_IsRefusedNamingTheOptionAsTyped_TheValue_AndWhatItMustBe(string line, string expected)
    {
        var (code, error) = Run(line);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesThatParse_AreTheOptionsValues()
    {
        var program = new Program();

        var parsed = program.Root.Parse("start -n 3 --engine-port 0 --timeout 2.5 --audit-segment-bytes -1 --batch 8 --uid 0 --uid 1000 --wait 0.25");

        Assert.Empty(parsed.Errors);
        Assert.Equal(3, parsed.GetValue(program.Engines));
        Assert.Equal(0, parsed.GetValue(program.EnginePort));
        Assert.Equal(2.5, parsed.GetValue(program.Timeout));
        Assert.Equal(-1L, parsed.GetValue(program.SegmentBytes));
        Assert.Equal(8, parsed.GetValue(program.Batch));
        Assert.Equal([0u, 1000u], parsed.GetValue(program.Uids)!);
        Assert.Equal(0.25, parsed.GetValue(program.Wait));
        Assert.Equal(50, program.Root.Parse("logs").GetValue(program.Lines));
        Assert.Null(program.Root.Parse("start").GetValue(program.Wait));
    }

    private static (int Code, string Error) Run(string line)
    {
        var program = new Program();
        var error = new StringWriter();
        var code = program.Root.Parse(line).Invoke(new InvocationConfiguration { Error = error, Output = TextWriter.Null });
        return (code, error.ToString());
    }

    /// <summary>A program shaped like capcluster's: options of every number type, on a subcommand, some with words of their own.</summary>
    private sealed class Program
    {
        public Program()
        {
            Engines.Expect("a whole number, 0 or more (0: the controller alone)", min: 0);
            EnginePort.Expect(OptionValues.AnyPort, 0, 65535);
            Timeout.Expect(OptionValues.Seconds);
            var start = new Command("start") { Engines, EnginePort, Timeout, SegmentBytes, Batch, Uids, Wait };
            start.SetAction(_ => 0);
            var logs = new Command("logs") { Lines };
            logs.SetAction(_ => 0);
            Root = new RootCommand { start, logs }.WithNumberErrors();
        }

        public RootCommand Root { get; }

        public Option<int> Engines { get; } = new("-n", "--engines") { DefaultValueFactory = _ => 2 };

        public Option<int> EnginePort { get; } = new("--engine-port");

        public Option<double> Timeout { get; } = new("--timeout");

        public Option<long?> SegmentBytes { get; } = new("--audit-segment-bytes");

        public Option<int?> Batch { get; } = new("--batch");

        public Option<uint[]> Uids { get; } = new("--uid") { Arity = ArgumentArity.ZeroOrMore };

        public Option<double?> Wait { get; } = new("--wait");

        public Option<int> Lines { get; } = new("--lines") { DefaultValueFactory = _ => 50 };
    }
}
