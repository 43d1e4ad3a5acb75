using System.Net.Sockets;

namespace CapCluster.Engine.Tests.ShippedCode;

/// <summary>Lambdas in the shapes the compiler gives them: singleton, shared closure, nested closures, async.</summary>
public static class Closures
{
    public static Func<int, int> NonCapturing() => x => x + 1;

    /// <summary>One closure holds factor, data and sock; only the second lambda uses sock.</summary>
    public static (Func<int, double> Compute, Func<int> UsesSocket) SharedClosure(int factor, double[] data, Socket sock)
    {
        Func<int, double> compute = x => x * factor + data.Sum();
        Func<int> usesSocket = () => sock.Blocking ? factor : -factor;
        return (compute, usesSocket);
    }

    /// <summary>scale lives in the method's closure, offset in each iteration's, label is used by another lambda.</summary>
    public static (List<Func<int, int>> PerIteration, Func<string> UsesLabel) InLoop(int scale, int count, string label)
    {
        var result = new List<Func<int, int>>();
        Func<string> usesLabel = () => label + scale;
        for (var i = 0; i < count; i++)
        {
            var offset = i * 10;
            result.Add(x => x * scale + offset);
        }
        return (result, usesLabel);
    }

    /// <summary>The async lambda's stub only hands its closure to a state machine; offset is read in MoveNext.</summary>
    public static Func<int, Task<int>> AsyncAdder(int offset, string unused)
    {
        Func<string> other = () => unused;
        GC.KeepAlive(other);
        return async x =>
        {
            await Task.Yield();
            return x + offset;
        };
    }

    /// <summary>bonus is read only inside a local function the lambda calls; spare is not read at all.</summary>
    public static Func<int, int> ViaLocalFunction(int bonus, string spare)
    {
        Func<string> other = () => spare;
        GC.KeepAlive(other);
        return x => AddBonus(x);

        int AddBonus(int x) => x + bonus;
    }

    public static Func<int, ValueTask<int>> ValueTaskDoubler() => x => ValueTask.FromResult(2 * x);

    public static Func<int, int> Generic<T>(T value) => x => x + value!.GetHashCode();
}

/// <summary>Lambdas calling delegates held in variables they capture, in the shapes the compiler gives those.</summary>
public static class HeldDelegates
{
    /// <summary>f captures k; both live in the closure the returned lambda runs on.</summary>
    public static Func<int, int> Capturing(int k)
    {
        Func<int, int> f = x => x * k;
        return x => f(x) + 1;
    }

    /// <summary>square captures nothing: it runs on its class's "&lt;&gt;c" singleton.</summary>
    public static Func<int, int> NonCapturing()
    {
        Func<int, int> square = x => x * x;
        return x => square(x) + 1;
    }

    public static Func<int, int> StaticMethod()
    {
        Func<int, int> f = Functions.Square;
        return x => f(x) * 2;
    }

    /// <summary>A delegate held by a delegate held by the lambda: paths "middle", "middle/inner", "middle/inner/k".</summary>
    public static Func<int, int> Chain(int k)
    {
        Func<int, int> inner = x => x + k;
        Func<int, int> middle = x => inner(x) * 2;
        return x => middle(x) - 1;
    }

    /// <summary>f lives in the method's closure, offset in each iteration's: the held delegate's path goes through "CS$&lt;&gt;8__locals".</summary>
    public static List<Func<int, int>> InLoop(int scale, int count)
    {
        Func<int, int> f = x => x * scale;
        var result = new List<Func<int, int>>();
        for (var i = 0; i < count; i++)
        {
            var offset = i * 10;
            result.Add(x => f(x) + offset);
        }
        return result;
    }

    public static Func<int, int> Unset()
    {
        Func<int, int>? f = null;
        return x => f is null ? -x : f(x);
    }

    public static Func<int, int> Recursive()
    {
        Func<int, int> factorial = null!;
        factorial = n => n <= 1 ? 1 : n * factorial(n - 1);
        return factorial;
    }

    public static Func<int, int> ObjectMethod(Counter counter)
    {
        Func<int, int> next = counter.Next;
        return x => next(x) + 1;
    }

    public static Func<double, double> Framework()
    {
        Func<double, double> f = Math.Sqrt;
        return x => f(x) + 1;
    }
}

/// <summary>A user object: its instance methods, and lambdas that capture only it, cannot be shipped.</summary>
public sealed class Counter
{
    public int Start { get; set; }

    public int Next(int step) => Start + step;

    public Func<int, int> CapturesThisOnly() => x => x + Start;

    public Func<int, int> CapturesThisAndLocal(int k) => x => x + Start + k;
}
