using Microsoft.DotNet.Interactive.Events;

namespace CapCluster.Interactive.Tests;

/// <summary>
/// Lambdas typed in notebook cells, shipped as delegate tasks to a real 2-engine cluster: the running cell's image is
/// compiled again, a finished cell's comes from the kernel's script state, and the client checks both against what runs.
/// </summary>
[Collection(NotebookClusterCollection.Name)]
public sealed class CellLambdaTests(NotebookClusterFixture fixture)
{
    [Fact]
    public async Task Lambda_TypedInTheCellThatShipsIt_RunsOnTheEngines()
    {
        using var kernel = await fixture.NotebookAsync();

        var result = await Notebook.RunAsync(kernel, "await tc.MapAsync((int x) => x * x + 1, Enumerable.Range(0, 10), chunkSize: 3)");

        Notebook.AssertSucceeded(result);
        Assert.Equal(Enumerable.Range(0, 10).Select(x => x * x + 1), ReturnValue<IReadOnlyList<int>>(result));
    }

    [Fact]
    public async Task Lambda_AfterADirectiveInItsCell_CallingAClassOfAnEarlierCell_RunsOnEveryEngine()
    {
        using var kernel = await fixture.NotebookAsync();
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "public static class Maths { public static int Twice(int x) => 2 * x; }"));

        // The directive's line is not C#: the kernel compiles the rest of the cell, and so must the extension.
        var result = await Notebook.RunAsync(kernel, "#!pxconfig --targets all\nawait mec.ApplyAsync((int x) => Maths.Twice(x) + 1, 20)");

        Notebook.AssertSucceeded(result);
        Assert.Equal([41, 41], ReturnValue<IReadOnlyList<int>>(result));
    }

    [Fact]
    public async Task Lambda_OfAFinishedCell_ShipsFromALaterOne()
    {
        using var kernel = await fixture.NotebookAsync();
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "Func<int, int> cube = x => x * x * x;"));
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "var unrelated = 1;"));

        var result = await Notebook.RunAsync(kernel, "await tc.MapAsync(cube, [2, 3])");

        Notebook.AssertSucceeded(result);
        Assert.Equal([8, 27], ReturnValue<IReadOnlyList<int>>(result));
    }

    [Fact]
    public async Task Lambda_ReadingVariablesOfCells_ShipsTheirValuesAsTheyAreWhenItShips()
    {
        using var kernel = await fixture.NotebookAsync();
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "var offset = 5;"));

        var first = await Notebook.RunAsync(kernel, "var scale = 10;\nawait tc.MapAsync((int x) => x * scale + offset, [1, 2])");
        Notebook.AssertSucceeded(first);
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "offset = 6;"));
        var second = await Notebook.RunAsync(kernel, "await tc.MapAsync((int x) => x * scale + offset, [1, 2])");

        Assert.Equal([15, 25], ReturnValue<IReadOnlyList<int>>(first));
        Notebook.AssertSucceeded(second);
        Assert.Equal([16, 26], ReturnValue<IReadOnlyList<int>>(second));
    }

    [Fact]
    public async Task Lambda_CallingADelegateHeldInACellsVariable_ShipsIt_ButNotOneInsideAValue()
    {
        using var kernel = await fixture.NotebookAsync();
        Notebook.AssertSucceeded(await Notebook.RunAsync(kernel, "var bias = 100;\nFunc<int, int> cube = v => v * v * v + bias;\nvar table = new List<Func<int, int>> { cube };"));

        var called = await Notebook.RunAsync(kernel, "await tc.MapAsync((int x) => cube(x) + 1, [2, 3])");
        var failure = Notebook.Failure(await Notebook.RunAsync(kernel, "await tc.MapAsync((int x) => table[0](x), [2])"));

        Notebook.AssertSucceeded(called);
        Assert.Equal([109, 128], ReturnValue<IReadOnlyList<int>>(called));
        Assert.Contains("captured variable 'table'", failure, StringComparison.Ordinal);
        Assert.Contains("a lambda may call a delegate held in a variable it reads", failure, StringComparison.Ordinal);
    }

    private static T ReturnValue<T>(Microsoft.DotNet.Interactive.KernelCommandResult result) =>
        Assert.IsAssignableFrom<T>(Assert.Single(result.Events.OfType<ReturnValueProduced>()).Value);
}
