using System.Net;
using System.Net.Sockets;
using WampContracts.Router.Core;

namespace WampContracts.Router;

/// <summary>
/// A TCP listener of the router: accepts connections and serves each (<see cref="ServeAsync"/>) until it ends; when
/// the listener stops, it waits for them within <see cref="WampRouterOptions.HandshakeTimeout"/>. At most
/// <see cref="WampRouterOptions.MaxConnections"/> connections may be in their handshake at once (each is bounded by
/// <see cref="WampRouterOptions.HandshakeTimeout"/>); past that a new one is closed at once. The limit on sessions is
/// the protocol's to answer (HTTP 503, a RawSocket error).
/// </summary>
internal abstract class ConnectionListener : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Task _acceptLoop;
    private readonly HashSet<Task> _connections = new();
    private readonly Lock _lock = new();
    private int _handshakes;

    protected ConnectionListener(RouterCore core, Socket listener)
    {
        Core = core;
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    protected RouterCore Core { get; }

    /// <summary>Fires when the listener stops: handshakes in progress give up.</summary>
    protected CancellationTokenSource Stopping { get; } = new();

    /// <summary>The port it listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <exception cref="IOException">The port cannot be listened on.</exception>
    protected static Socket Listen(IPAddress address, int port, string what)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(512);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"cannot listen for {what} on {address}:{port}: {e.Message}", e);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!Stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptAsync(Stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // One failed accept (the peer reset before we took it) does not stop the listener.
                continue;
            }
            socket.NoDelay = true;
            if (Interlocked.Increment(ref _handshakes) > Core.Options.MaxConnections)
            {
                // A flood of connections that never finish their handshake costs nothing but their close.
                Interlocked.Decrement(ref _handshakes);
                Core.Log.ConnectionRefused($"{Core.Options.MaxConnections} connections are in their handshake");
                socket.Dispose();
                continue;
            }
            Task serve;
            try
            {
                serve = ServeAsync(socket);
            }
            catch (Exception)
            {
                socket.Dispose();
                Interlocked.Decrement(ref _handshakes);
                continue;
            }
            lock (_lock) _connections.Add(serve);
            _ = serve.ContinueWith(t =>
            {
                lock (_lock) _connections.Remove(t);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The bound on one connection's handshake: <see cref="WampRouterOptions.HandshakeTimeout"/> on the router's clock
    /// (<see cref="WampRouterOptions.TimeProvider"/>), or the listener stopping, whichever comes first.
    /// </summary>
    protected HandshakeLimit HandshakeBound() => new(Core.Options, Stopping.Token);

    /// <summary>See <see cref="HandshakeBound"/>.</summary>
    protected sealed class HandshakeLimit : IDisposable
    {
        private readonly CancellationTokenSource _timer, _linked;

        public HandshakeLimit(WampRouterOptions options, CancellationToken stopping)
        {
            _timer = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, _timer.Token);
        }

        public CancellationToken Token => _linked.Token;

        public void Dispose()
        {
            _linked.Dispose();
            _timer.Dispose();
        }
    }

    /// <summary>The handshake of a connection is over (the session starts, or the connection was refused).</summary>
    protected void HandshakeDone() => Interlocked.Decrement(ref _handshakes);

    /// <summary>Serves one accepted connection until it ends; it calls <see cref="HandshakeDone"/> once, and never throws.</summary>
    protected abstract Task ServeAsync(Socket socket);

    public async ValueTask DisposeAsync()
    {
        Stopping.Cancel();
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] running;
        lock (_lock) running = [.. _connections];
        using var timeout = new CancellationTokenSource(Core.Options.HandshakeTimeout);
        await Task.WhenAll(running).WaitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
