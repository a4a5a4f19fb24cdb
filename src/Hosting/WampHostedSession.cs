using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace WampContracts.Hosting;

/// <summary>
/// The application's WAMP session, owned by the host: created at first use (a proxy resolved before the host
/// starts gets it too), joined in the background and joined again after every lost connection, its callees and
/// subscribers attached once it has joined (and restored by the session after a reconnection), and closed with
/// GOODBYE when the host stops. Inject it for untyped calls or to wait until it is ready.
/// </summary>
public sealed partial class WampHostedSession : IAsyncDisposable
{
    private readonly IOptions<WampClientOptions> _options;
    private readonly IOptions<WampSessionSetup> _setup;
    private readonly IServiceProvider _services;
    private readonly ILogger _log;
    private readonly Lazy<WampSession> _session;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly List<IAsyncDisposable> _handles = [];
    private Task _attaching = Task.CompletedTask;
    private string? _attachFailure;
    private int _disposed;

    public WampHostedSession(IOptions<WampClientOptions> options, IOptions<WampSessionSetup> setup, IServiceProvider services, ILoggerFactory? loggerFactory = null)
    {
        _options = options;
        _setup = setup;
        _services = services;
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        _log = logs.CreateLogger(LogCategory);
        _session = new Lazy<WampSession>(() => Open(logs), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The category the hosted session logs under (the session itself logs under <c>WampContracts.Session</c>).</summary>
    public const string LogCategory = "WampContracts.Hosting";

    /// <summary>The session (created, and its joining started, at the first access).</summary>
    /// <exception cref="OptionsValidationException">The <c>Wamp</c> configuration is invalid.</exception>
    /// <exception cref="ObjectDisposedException">The host has stopped.</exception>
    public WampSession Session
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            return _session.Value;
        }
    }

    /// <summary>Joined, and every callee and subscriber attached.</summary>
    public bool IsReady => _session.IsValueCreated && _session.Value.IsConnected && _attached.Task.IsCompletedSuccessfully;

    /// <summary>Waits until the session has joined and every callee and subscriber is attached, bounded by <paramref name="cancellationToken"/>.</summary>
    /// <exception cref="WampConnectionException">The session has ended.</exception>
    /// <exception cref="InvalidOperationException">A callee or subscriber could not be attached (e.g. the procedure is registered by another session).</exception>
    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken = default)
    {
        await Session.WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
        await _attached.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await Session.WaitUntilConnectedAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Why attaching a callee or subscriber failed for good, or null.</summary>
    internal string? AttachFailure => Volatile.Read(ref _attachFailure);

    private WampSession Open(ILoggerFactory logs)
    {
        var options = _options.Value;
        // Interceptors registered with AddWampInterceptor, in registration order.
        var sessionOptions = options.ToSessionOptions(_setup.Value, logs, _services.GetService<TimeProvider>() ?? TimeProvider.System,
            _services.GetServices<IWampCallInterceptor>().ToArray(), _services.GetServices<IWampInvocationInterceptor>().ToArray());
        var url = options.RouterUrl!;
        return WampSession.StartJoining(
            ct => WampSession.OpenTransportAsync(url, options.Realm!, sessionOptions, ct),
            options.Realm!, sessionOptions);
    }

    /// <summary>Starts joining and, in the background, attaches the registered callees and subscribers once joined.</summary>
    internal void Start()
    {
        var session = Session;
        var attachments = _services.GetServices<WampAttachment>().ToArray();
        _attaching = Task.Run(() => AttachAllAsync(session, attachments, _stopping.Token));
    }

    private async Task AttachAllAsync(WampSession session, WampAttachment[] attachments, CancellationToken stopping)
    {
        try
        {
            foreach (var attachment in attachments)
            {
                // Before the first join, or while the session reconnects, a request cannot go out: wait, then try again.
                while (true)
                {
                    await session.WaitUntilConnectedAsync(stopping).ConfigureAwait(false);
                    try
                    {
                        var handle = await attachment.Attach(session, _services, stopping).ConfigureAwait(false);
                        lock (_lock) _handles.Add(handle);
                        break;
                    }
                    catch (WampConnectionException) when (!session.Completion.IsCompleted && !stopping.IsCancellationRequested)
                    {
                        LogAttachRetry(_log, attachment.Contract.FullName);
                    }
                }
            }
            _attached.TrySetResult();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            _attached.TrySetCanceled(stopping);
        }
        catch (Exception e)
        {
            Volatile.Write(ref _attachFailure, e.Message);
            LogAttachFailed(_log, e);
            _attached.TrySetException(new InvalidOperationException($"A WAMP callee or subscriber could not be attached: {e.Message}", e));
        }
    }

    /// <summary>Stops attaching and closes the session (GOODBYE), each bounded by the session's operation timeout.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping.Cancel();
        await _attaching.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ = _attached.Task.Exception; // observed: a failure was logged
        if (_session.IsValueCreated) await _session.Value.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Attaching {Contract} waits for the session to join again")]
    private static partial void LogAttachRetry(ILogger logger, string? contract);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "A WAMP callee or subscriber could not be attached")]
    private static partial void LogAttachFailed(ILogger logger, Exception exception);
}

/// <summary>A callee or subscriber to attach once the session has joined.</summary>
internal sealed record WampAttachment(Type Contract, Func<WampSession, IServiceProvider, CancellationToken, Task<IAsyncDisposable>> Attach);

/// <summary>One invocation's (or event's) DI scope and the implementation resolved from it.</summary>
internal sealed class ScopedTarget(AsyncServiceScope scope, object target) : WampContractTargets.ITargetScope
{
    public object Target => target;

    public ValueTask DisposeAsync() => scope.DisposeAsync();
}
