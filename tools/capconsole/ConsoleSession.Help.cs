namespace CapCluster.Repl;

internal sealed partial class ConsoleSession
{
    /// <summary>What the MultiEngine magics answer in a console started with a task capability only.</summary>
    internal const string NoMultiEngine =
        "this console holds no MultiEngine capability, only a task one (tc), so it reaches no engine: %px, %%px, %autopx, %result, " +
        "%targets, %block and %status need a multiengine.cap. Start the console with one, `capcluster console --cap-file PATH` " +
        "(a cluster's own is multiengine.cap in its security folder, ~/.capcluster/security on the controller's host; its owner " +
        "can make you one with `furlgen attenuate ~/.capcluster/security/multiengine.cap -o NAME.cap`).";

    internal const string HelpText = """
        C# runs here, with `mec` (MultiEngineClient, or null with a task.cap only) and `tc` (TaskClient, or null without task.cap) defined;
        an unfinished input (an open brace, say) continues on the next line, and an empty line ends it.
          %px CODE            run CODE on the target engines; each engine's output prints as it arrives: [0] Out[3]: 42
          %px --targets 0,2 --noblock CODE
                              the same on engines 0 and 2 only, without waiting (options before the code)
          %%px [options]      a multi-line cell for the engines: the lines that follow, up to an empty line
          %autopx             toggle: every following input runs on the engines, until %autopx again
          %result             the last %px call's output again (waiting for it if it still runs)
          %result N           execution N (the N of Out[N]) from each target engine's history
          %targets [all|0,2]  show or set the engines %px uses (mec.Targets too)
          %block [on|off]     show or set whether %px waits for the engines (on by default)
          %status             the controller and its engines, as `capcluster status` prints them
          %help               this text
        Ctrl-C stops the running wait (the engines go on) and keeps the console; Ctrl-D on an empty line leaves.
        Up and Down recall earlier inputs.
        """;
}
