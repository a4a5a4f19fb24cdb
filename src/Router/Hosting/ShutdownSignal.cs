using System.Globalization;
using System.Runtime.InteropServices;

namespace WampContracts.Hosting;

/// <summary>
/// The one shutdown path of a process that hosts a router (the standalone router, the conferences demo). SIGTERM,
/// SIGINT (Ctrl+C) and SIGQUIT, delivered once or many times, to the process or to its whole group, with or without
/// a SIGCONT after them, all end here: the first cancels <see cref="Token"/> and completes <see cref="Requested"/>;
/// every one, the first and the repeats, is marked handled, so the runtime never ends the process by default in the
/// middle of its graceful shutdown and a repeat never restarts or blocks it.
/// </summary>
/// <remarks>
/// Nothing else in the process may register for these signals: a web host's default <c>ConsoleLifetime</c> does, so
/// hosts use <see cref="EmbeddedHostLifetime"/>. With two registrations the runtime runs both (two shutdowns racing)
/// or, in newer runtimes, stops at the first that marks the signal handled, which takes the signal from the other.
/// The registrations are never disposed: a signal that arrives while <c>Main</c> returns must still find a handler.
/// </remarks>
internal sealed class ShutdownSignal
{
    /// <summary>How long the graceful shutdown may take before the process exits anyway, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The longest <c>--shutdown-timeout</c> accepted: one day.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    // Rooted for the life of the process: a collected registration would unregister itself in its finalizer.
    private static readonly Lazy<ShutdownSignal> ThisProcess = new(() => new ShutdownSignal());

    private readonly CancellationTokenSource _requested = new();
    private readonly TaskCompletionSource _requestedTask = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PosixSignalRegistration> _registrations = [];

    private ShutdownSignal()
    {
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT])
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // This platform does not deliver that signal: nothing to listen to.
            }
        }
    }

    /// <summary>Starts listening (once per process; later calls return the same listener). Call it before the host starts, so a signal during startup is not lost.</summary>
    public static ShutdownSignal Listen() => ThisProcess.Value;

    /// <summary>Canceled on the first signal, on the thread that handles it; pass it to work that should stop then.</summary>
    public CancellationToken Token => _requested.Token;

    /// <summary>Completes (never on the signal's own thread) once the first signal has arrived.</summary>
    public Task Requested => _requestedTask.Task;

    private void OnSignal(PosixSignalContext context)
    {
        // Handled, always, the repeats included: the runtime's default would end the process at once.
        context.Cancel = true;
        try
        {
            // A no-op once canceled, and it does not wait for callbacks another signal's thread is still running.
            _requested.Cancel();
        }
        catch (AggregateException e)
        {
            // A library writes no console: the failure goes to the trace listeners, and the shutdown goes on.
            System.Diagnostics.Trace.TraceError($"a shutdown callback failed: {e.InnerException?.Message}");
        }
        finally
        {
            _requestedTask.TrySetResult();
        }
    }

    /// <summary>
    /// Runs the graceful <paramref name="shutdown"/> and waits for it at most <paramref name="bound"/>: true if it
    /// finished, false if it was still running then (the caller exits anyway). A failure of the shutdown is rethrown.
    /// </summary>
    public static async Task<bool> CompletesWithinAsync(Func<ValueTask> shutdown, TimeSpan bound, TimeProvider? time = null)
    {
        // On the thread pool, so a shutdown that blocks before its first await cannot hold the bound up either.
        var task = Task.Run(async () => await shutdown().ConfigureAwait(false));
        using var timer = new CancellationTokenSource();
        if (await Task.WhenAny(task, Task.Delay(bound, time ?? TimeProvider.System, timer.Token)).ConfigureAwait(false) != task) return false;
        timer.Cancel();
        await task.ConfigureAwait(false);
        return true;
    }

    /// <summary>Reads a <c>--shutdown-timeout</c> value: a positive number of seconds (a fraction is fine), at most <see cref="MaxTimeout"/>.</summary>
    public static bool TryParseTimeout(string text, out TimeSpan timeout)
    {
        timeout = default;
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds)
            || !(seconds > 0) || seconds > MaxTimeout.TotalSeconds)
            return false;
        timeout = TimeSpan.FromSeconds(seconds);
        return true;
    }
}
