using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace WampContracts.Testing;

/// <summary>
/// Collects the exceptions of faulted tasks nobody observed (reported when the tasks are collected), so a test can
/// show that what it provoked left none behind in the library.
/// </summary>
public static class UnobservedExceptions
{
    private static readonly ConcurrentQueue<Exception> Seen = new();

    [ModuleInitializer]
    internal static void Watch() =>
        TaskScheduler.UnobservedTaskException += static (_, e) => Seen.Enqueue(e.Exception);

    /// <summary>
    /// Collects garbage so abandoned faulted tasks report, then returns (and forgets) those thrown by the library,
    /// as text for the failure message.
    /// </summary>
    public static IReadOnlyList<string> FromLibrary()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var found = new List<string>();
        while (Seen.TryDequeue(out var e))
        {
            string text = e.ToString();
            if (text.Contains("at WampContracts.", StringComparison.Ordinal) && !text.Contains(".Tests.", StringComparison.Ordinal))
                found.Add(text);
        }
        return found;
    }
}
