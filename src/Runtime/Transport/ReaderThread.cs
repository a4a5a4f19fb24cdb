using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace WampContracts.Transport;

/// <summary>
/// A connection's own thread (see <see cref="SocketChannel"/>): it runs the connection's async loop, whose reads wait
/// in the kernel on it. When the loop awaits something that completes elsewhere (an authenticator's callback, say),
/// the loop comes back here with <see cref="Return"/> before it reads again, so reads keep waiting on this thread.
/// </summary>
/// <remarks>
/// A thread whose connection has ended waits <see cref="IdleLifetime"/> for the next one before it exits, so a
/// process that opens connection after connection does not pay a thread for each, and what a thread keeps for itself
/// (the shared array pool's per-thread cache) stays with a thread that goes on being used. There are never more than
/// <see cref="SocketChannel.MaxReaderThreads"/> busy ones, so never more than that many parked ones.
/// </remarks>
internal sealed class ReaderThread
{
    /// <summary>How long a thread without a connection waits for the next before it exits.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(30);

    [ThreadStatic] private static ReaderThread? t_current;

    private static readonly Lock s_lock = new();
    private static readonly List<ReaderThread> s_idle = []; // the most recently parked last

    private readonly BlockingCollection<Action> _work = new();

    private ReaderThread()
    {
    }

    /// <summary>
    /// Starts <paramref name="loop"/>, which reads <paramref name="channel"/>, on a reader thread; the returned task
    /// completes when the loop has ended. From now on the channel's reads that must wait, wait on that thread, whichever
    /// thread asks (see <see cref="SocketChannel.Reader"/>).
    /// </summary>
    public static Task Start(SocketChannel channel, Func<Task> loop)
    {
        ReaderThread? reader = null;
        lock (s_lock)
            if (s_idle.Count > 0)
            {
                reader = s_idle[^1];
                s_idle.RemoveAt(s_idle.Count - 1);
            }
        if (reader is null)
        {
            reader = new ReaderThread();
            new Thread(reader.Run) { IsBackground = true, Name = "WAMP reader" }.UnsafeStart();
        }
        channel.Reader = reader;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        reader.Post(() =>
        {
            Task running;
            try
            {
                running = loop();
            }
            catch (Exception e)
            {
                running = Task.FromException(e);
            }
            // The loop runs here until it awaits something that completes elsewhere; what Return sends back runs here.
            // Once it has ended (on whichever thread), this thread is free for the next connection.
            running.ContinueWith(static (t, s) =>
            {
                var (reader, done) = ((ReaderThread, TaskCompletionSource))s!;
                lock (s_lock) s_idle.Add(reader);
                if (t.Exception is { } e) done.TrySetException(e.InnerExceptions);
                else done.TrySetResult();
            }, (reader, done), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        });
        return done.Task;
    }

    private void Run()
    {
        t_current = this;
        while (true)
        {
            if (!_work.TryTake(out var work, IdleLifetime))
            {
                // Still parked after a whole lifetime: leave (unless a connection took this thread meanwhile).
                lock (s_lock)
                {
                    if (_work.Count > 0 || !s_idle.Remove(this)) continue;
                }
                _work.Dispose();
                return;
            }
            // A loop reports its failures through its task (see Start); a continuation handles its own.
            work();
        }
    }

    /// <summary>The reader thread the caller runs on, if any.</summary>
    public static ReaderThread? Current => t_current;

    /// <summary>Runs <paramref name="work"/> on this reader's thread once what runs there now returns.</summary>
    public void Post(Action work) => _work.Add(work);

    /// <summary>Continues on this reader's thread (at once when already there).</summary>
    public ReturnAwaitable Return() => new(this);

    /// <summary>See <see cref="Return"/>.</summary>
    public readonly struct ReturnAwaitable(ReaderThread reader) : ICriticalNotifyCompletion
    {
        public ReturnAwaitable GetAwaiter() => this;

        public bool IsCompleted => ReferenceEquals(t_current, reader);

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => reader._work.Add(continuation);

        public void UnsafeOnCompleted(Action continuation) => reader._work.Add(continuation);
    }
}
