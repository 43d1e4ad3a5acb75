using CapCluster.Client;
using Microsoft.DotNet.Interactive.Formatting;

namespace CapCluster.Interactive.Internal;

/// <summary>text/plain and text/html for what #!px shows and for the client's execute results and remote errors.</summary>
internal static class PxFormatting
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";

    /// <summary>Both, so that a notebook shows the table and a saved notebook (or a terminal) still reads the text.</summary>
    public static readonly string[] MimeTypes = [PlainText, Html];

    public static void Register()
    {
        Both<PxView>(v => v.ToPlainText(), v => v.ToHtml());
        Both<ExecuteResults>(r => PxView.Of(r).ToPlainText(), r => PxView.Of(r).ToHtml());
        Both<ExecuteResult>(r => PxView.Of(new ExecuteResults([r])).ToPlainText(), r => PxView.Of(new ExecuteResults([r])).ToHtml());
        Both<RemoteException>(e => PxView.DescribeError(e.EngineId, e) + (e.RemoteStackTrace.Length > 0 ? "\n" + e.RemoteStackTrace : string.Empty), PxView.ErrorHtml);
        Both<CompositeRemoteException>(
            e => $"{e.Errors.Count} engines failed:\n" + string.Join('\n', e.Errors.Select(x => PxView.DescribeError(-1, x))),
            e => "<div>" + System.Net.WebUtility.HtmlEncode($"{e.Errors.Count} engines failed:") + "</div><ul>" + string.Concat(e.Errors.Select(x => "<li>" + PxView.ErrorHtml(x) + "</li>")) + "</ul>");
    }

    /// <summary>Registers both formatters of <typeparamref name="T"/> and prefers HTML where the front end can show it.</summary>
    public static void Both<T>(Func<T, string> plain, Func<T, string> html)
    {
        Formatter.Register<T>((value, writer) => writer.Write(plain(value)), PlainText);
        Formatter.Register<T>((value, writer) => writer.Write(html(value)), Html);
        Formatter.SetPreferredMimeTypesFor(typeof(T), Html, PlainText);
    }
}
