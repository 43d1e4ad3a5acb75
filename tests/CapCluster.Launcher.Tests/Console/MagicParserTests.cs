using CapCluster.Repl;

namespace CapCluster.Launcher.Tests.Console;

public sealed class MagicParserTests
{
    [Fact]
    public void Px_WithCode_IsPxOfThatCode()
    {
        Assert.Equal(new ConsoleCommand.Px("x * 2"), MagicParser.Parse("%px x * 2", autoPx: false));
    }

    [Fact]
    public void Px_WithOptionsBeforeCode_TakesTargetsAndNoBlock()
    {
        var command = Assert.IsType<ConsoleCommand.Px>(MagicParser.Parse("%px --targets 0,2 --noblock Console.WriteLine(\"--x\");", autoPx: false));

        Assert.Equal("Console.WriteLine(\"--x\");", command.Code);
        Assert.Equal([0, 2], command.TargetOverride!.Ids!);
        Assert.False(command.BlockOverride);
    }

    [Fact]
    public void Px_TargetsAll_MeansEveryEngine()
    {
        var command = Assert.IsType<ConsoleCommand.Px>(MagicParser.Parse("%px --targets=all --block 1", autoPx: false));

        Assert.Null(command.TargetOverride!.Ids);
        Assert.True(command.BlockOverride);
    }

    [Theory]
    [InlineData("%px", "%px: no code to run")]
    [InlineData("%px --noblock", "%px: no code to run")]
    [InlineData("%px --targets", "--targets needs a value")]
    [InlineData("%px --targets 0,x 1", "('x' is not an id)")]
    [InlineData("%px --verbose 1", "%px: unknown option '--verbose'")]
    [InlineData("%pxx 1", "%pxx: unknown magic")]
    [InlineData("%result two", "%result: 'two' is not an execution number")]
    [InlineData("%result 0", "%result: '0' is not an execution number")]
    [InlineData("%block maybe", "%block: 'maybe' is not on or off")]
    [InlineData("%autopx now", "%autopx takes no argument (got 'now')")]
    [InlineData("%%cell\n1", "%%cell: unknown cell magic")]
    [InlineData("%%px\n\n", "%%px: no code to run")]
    public void BadMagic_IsInvalidWithAReasonNamingIt(string input, string expected)
    {
        var invalid = Assert.IsType<ConsoleCommand.Invalid>(MagicParser.Parse(input, autoPx: false));

        Assert.Contains(expected, invalid.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void CellPx_TakesTheLinesAfterTheHeader()
    {
        var command = Assert.IsType<ConsoleCommand.Px>(MagicParser.Parse("%%px --targets 1\nvar a = 1;\nvar b = a + 1;\nb\n", autoPx: false));

        Assert.Equal("var a = 1;\nvar b = a + 1;\nb", command.Code);
        Assert.Equal([1], command.TargetOverride!.Ids!);
    }

    [Fact]
    public void PlainCode_RunsLocally_OrOnTheEnginesUnderAutoPx()
    {
        Assert.Equal(new ConsoleCommand.Local("1 + 1"), MagicParser.Parse("  1 + 1 ", autoPx: false));
        Assert.Equal(new ConsoleCommand.Px("1 + 1"), MagicParser.Parse("1 + 1", autoPx: true));
    }

    [Fact]
    public void Magics_StayMagicsUnderAutoPx()
    {
        Assert.IsType<ConsoleCommand.AutoPx>(MagicParser.Parse("%autopx", autoPx: true));
        Assert.Equal(new ConsoleCommand.Result(3), MagicParser.Parse("%result 3", autoPx: true));
        Assert.Equal(new ConsoleCommand.Result(null), MagicParser.Parse("%result", autoPx: true));
    }

    [Fact]
    public void TargetsAndBlock_ShowWithoutArgument_SetWithOne()
    {
        Assert.Equal(new ConsoleCommand.Targets(null), MagicParser.Parse("%targets", autoPx: false));
        Assert.Equal(new ConsoleCommand.Targets(TargetSpec.All), MagicParser.Parse("%targets all", autoPx: false));
        Assert.Equal(new ConsoleCommand.Targets(new TargetSpec([2, 0])), MagicParser.Parse("%targets 2, 0,2", autoPx: false));
        Assert.Equal(new ConsoleCommand.Block(null), MagicParser.Parse("%block", autoPx: false));
        Assert.Equal(new ConsoleCommand.Block(false), MagicParser.Parse("%block OFF", autoPx: false));
        Assert.IsType<ConsoleCommand.Status>(MagicParser.Parse("%status", autoPx: false));
        Assert.IsType<ConsoleCommand.Help>(MagicParser.Parse("%help", autoPx: false));
        Assert.IsType<ConsoleCommand.Empty>(MagicParser.Parse("   ", autoPx: true));
    }

    [Theory]
    [InlineData("for (var i = 0; i < 3; i++) {", true)]
    [InlineData("for (var i = 0; i < 3; i++) {\n  Console.WriteLine(i);\n}", false)]
    [InlineData("%px if (true) {", true)]
    [InlineData("%px --targets 0 if (true) {", true)]
    [InlineData("%px x * 2", false)]
    [InlineData("%px throw new Exception(\"boom\")", false)]
    [InlineData("%px --targets 0 var a = 1", false)]
    [InlineData("%px Func<int> f = () => {", true)]
    [InlineData("%%px", true)]
    [InlineData("%%px\nvar a = 1;", true)]
    [InlineData("%%px\nvar a = 1;\n", false)]
    [InlineData("class C {\n\n", false)]
    [InlineData("%targets 0", false)]
    [InlineData("x * 2", false)]
    [InlineData("", false)]
    public void NeedsMore_UntilCodeIsCompleteOrAnEmptyLineEndsIt(string input, bool expected)
    {
        Assert.Equal(expected, MagicParser.NeedsMore(input));
    }
}
