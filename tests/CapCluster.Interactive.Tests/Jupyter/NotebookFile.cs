using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CapCluster.Integration.Tests.Infrastructure;

namespace CapCluster.Interactive.Tests.Jupyter;

/// <summary>An .ipynb (nbformat 4) to write, execute with `jupyter nbconvert --execute`, and read back.</summary>
internal sealed class NotebookFile
{
    private static readonly TimeSpan ExecuteTimeout = TimeSpan.FromMinutes(20);

    private NotebookFile(JsonObject document)
    {
        Document = document;
    }

    public JsonObject Document { get; }

    public JsonArray Cells => Document["cells"]!.AsArray();

    /// <summary>A notebook for the private .NET kernel with these code cells; a cell starting with "!raises\n" is tagged raises-exception.</summary>
    public static NotebookFile Of(params string[] cells)
    {
        var array = new JsonArray();
        foreach (var cell in cells)
        {
            var raises = cell.StartsWith("!raises\n", StringComparison.Ordinal);
            var metadata = new JsonObject();
            if (raises)
            {
                metadata["tags"] = new JsonArray("raises-exception");
            }

            array.Add(new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["metadata"] = metadata,
                ["outputs"] = new JsonArray(),
                ["source"] = raises ? cell["!raises\n".Length..] : cell,
            });
        }

        return new NotebookFile(new JsonObject
        {
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
            ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["name"] = JupyterTools.KernelName, ["display_name"] = ".NET (C#)", ["language"] = "C#" } },
            ["cells"] = array,
        });
    }

    /// <summary><see cref="Of"/> with a first cell that loads the extension from the local feed.</summary>
    public static NotebookFile WithExtension(params string[] cells) =>
        Of([$"#i \"nuget: {JupyterTools.Feed}\"\n#r \"nuget: CapCluster.Interactive, 0.1.0-preview\"", .. cells]);

    /// <summary>IPython's <c>[engine] Out[n]: value</c> line, <paramref name="value"/> a pattern.</summary>
    public static Regex Out(int engine, string value) => new($@"(?m)^\[{engine}\] Out\[\d+\]: {value}$");

    /// <summary>Writes the notebook as <paramref name="name"/>.ipynb in <paramref name="folder"/> (also its CAPCLUSTER_DIR) and runs it there.</summary>
    public NotebookFile RunIn(string folder, string name)
    {
        var path = Path.Combine(folder, name + ".ipynb");
        Write(path);
        return Execute(path, folder, folder);
    }

    public static NotebookFile Read(string path) => new(JsonNode.Parse(File.ReadAllText(path))!.AsObject());

    public void Write(string path) => File.WriteAllText(path, Document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Runs <paramref name="path"/> in its own folder with Jupyter's nbconvert; returns the executed copy.</summary>
    public static NotebookFile Execute(string path, string outputFolder, string capclusterDir)
    {
        var name = Path.GetFileNameWithoutExtension(path) + ".executed";
        var runtime = Directory.CreateTempSubdirectory("capcluster-jupyter-runtime-").FullName;
        try
        {
            var run = JupyterTools.Run(
                "/usr/bin/jupyter-nbconvert",
                ["--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=600", "--ExecutePreprocessor.startup_timeout=600",
                 "--output-dir", outputFolder, "--output", name, path],
                new Dictionary<string, string>
                {
                    ["CAPCLUSTER_DIR"] = capclusterDir,
                    ["JUPYTER_PATH"] = JupyterTools.JupyterPath,
                    ["JUPYTER_RUNTIME_DIR"] = runtime,
                    ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                    ["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1",
                    ["TERM"] = "dumb",
                },
                ExecuteTimeout);
            Assert.True(run.ExitCode == 0, $"jupyter nbconvert --execute {path} failed: {run}");
            return Read(Path.Combine(outputFolder, name + ".ipynb"));
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    /// <summary>
    /// Every output of cell <paramref name="index"/> in <paramref name="mimeType"/> (stream text for "stream", evalue for
    /// "error", the error's traceback lines for "traceback").
    /// </summary>
    public IReadOnlyList<string> Outputs(int index, string mimeType = "text/plain")
    {
        var texts = new List<string>();
        foreach (var output in Cells[index]!["outputs"]!.AsArray())
        {
            var type = (string)output!["output_type"]!;
            var text = mimeType switch
            {
                "stream" when type == "stream" => output["text"],
                "error" when type == "error" => output["evalue"],
                "traceback" when type == "error" => string.Join('\n', output["traceback"]!.AsArray().Select(l => (string)l!)),
                _ => output["data"]?[mimeType],
            };
            if (text is not null)
            {
                texts.Add(text is JsonArray lines ? string.Concat(lines.Select(l => (string)l!)) : (string)text!);
            }
        }

        return texts;
    }

    public string Shown(int index, string mimeType = "text/plain") => string.Join('\n', Outputs(index, mimeType));

    /// <summary>The indexes of code cells with an error output that are not tagged raises-exception.</summary>
    public IReadOnlyList<int> UnexpectedErrors() =>
        [.. Enumerable.Range(0, Cells.Count).Where(i =>
            (string)Cells[i]!["cell_type"]! == "code"
            && Outputs(i, "error").Count > 0
            && !(Cells[i]!["metadata"]?["tags"]?.AsArray().Any(t => (string)t! == "raises-exception") ?? false))];

    /// <summary>The code cell whose source starts with <paramref name="start"/>.</summary>
    public int IndexOf(string start) =>
        Enumerable.Range(0, Cells.Count).First(i => Source(i).StartsWith(start, StringComparison.Ordinal));

    private string Source(int i) =>
        Cells[i]!["source"] is JsonArray lines ? string.Concat(lines.Select(l => (string)l!)) : (string)Cells[i]!["source"]!;
}
