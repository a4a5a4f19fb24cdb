using System.Net;
using System.Net.Sockets;
using WampContracts.Router.Core;
using WampContracts.Serialization;
using WampContracts.Transport;

namespace WampContracts.Router;

/// <summary>
/// The router's RawSocket listener: accepts TCP connections, runs the 4-byte handshake (serializer and maximum
/// message length, within <see cref="WampRouterOptions.HandshakeTimeout"/>) and serves each as a session.
/// </summary>
internal sealed class RawSocketListener : IAsyncDisposable
{
    private readonly RouterCore _core;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private readonly HashSet<Task> _connections = new();
    private readonly Lock _lock = new();

    private RawSocketListener(RouterCore core, TcpListener listener)
    {
        _core = core;
        _listener = listener;
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <exception cref="IOException">The port cannot be listened on.</exception>
    public static RawSocketListener Start(RouterCore core, IPAddress address, int port)
    {
        var listener = new TcpListener(address, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"cannot listen for RawSocket on {address}:{port}: {e.Message}", e);
        }
        return new RawSocketListener(core, listener);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false);
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
            var serve = ServeAsync(socket);
            lock (_lock) _connections.Add(serve);
            _ = serve.ContinueWith(t => { lock (_lock) _connections.Remove(t); }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        RawSocketTransport? transport = null;
        try
        {
            socket.NoDelay = true;
            var options = _core.Options;
            var hello = new byte[4];
            using var timer = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider);
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, timer.Token))
            {
                int read = 0;
                while (read < 4)
                {
                    int n = await socket.ReceiveAsync(hello.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0) return;
                    read += n;
                }
                // Not RawSocket at all (an HTTP request, a scanner): close without an answer.
                if (hello[0] != RawSocketTransport.Magic) return;
                int error = 0;
                var serializer = WampSerializer.FromRawSocketId(hello[1] & 0x0f);
                if (hello[2] != 0 || hello[3] != 0) error = RawSocketTransport.ReservedBitsUsed;
                else if (serializer is null || !Accepts(options, serializer)) error = RawSocketTransport.SerializerUnsupported;
                else if (_core.AtConnectionLimit) error = RawSocketTransport.ConnectionLimitReached;
                if (error != 0)
                {
                    _core.Log.ConnectionRefused($"RawSocket handshake refused: {RawSocketTransport.DescribeError(error)}");
                    await socket.SendAsync(new byte[] { RawSocketTransport.Magic, (byte)(error << 4), 0, 0 }, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }
                int exponent = RawSocketTransport.LengthExponent(options.MaxMessageSize);
                await socket.SendAsync(new byte[] { RawSocketTransport.Magic, (byte)(exponent << 4 | serializer!.RawSocketId), 0, 0 }, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                transport = new RawSocketTransport(socket, serializer, options.MaxMessageSize, RawSocketTransport.MaxLength(hello[1] >> 4));
            }
            await _core.ServeAsync(transport, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // No handshake in time, or the peer went away: only this connection ends.
        }
        finally
        {
            if (transport is null) socket.Dispose();
        }
    }

    internal static bool Accepts(WampRouterOptions options, WampSerializer serializer) =>
        options.Serializers is not { Count: > 0 } list || list.Contains(serializer);

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _listener.Stop();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Task[] running;
        lock (_lock) running = [.. _connections];
        using var timeout = new CancellationTokenSource(_core.Options.HandshakeTimeout);
        await Task.WhenAll(running).WaitAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _listener.Dispose();
    }
}
