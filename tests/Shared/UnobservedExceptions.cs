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

    /// <summary>Collects garbage so abandoned faulted tasks report, then returns those thrown by the library.</summary>
    public static IReadOnlyList<Exception> FromLibrary()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Seen.Where(e => e.ToString().Contains("at WampContracts.", StringComparison.Ordinal) &&
                               !e.ToString().Contains(".Tests.", StringComparison.Ordinal)).ToList();
    }
}
