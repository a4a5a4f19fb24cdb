using System.Net;
using System.Net.Sockets;

namespace WampContracts.TypeScript.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of the router, so a test can drop a peer's connection the way a network fails:
/// <see cref="CutAll"/> resets every connection through it at once. Everything it starts ends on dispose.
/// </summary>
internal sealed class LoopbackProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<(Socket Client, Socket Upstream)> _pairs = new();
    private readonly List<Task> _pumps = new();
    private readonly Task _accepting;
    private int _cuts;

    private LoopbackProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public static LoopbackProxy Start(int targetPort) => new(targetPort);

    public Uri Url => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>How many times <see cref="CutAll"/> dropped connections.</summary>
    public int Cuts => Volatile.Read(ref _cuts);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                using var connectLimit = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                connectLimit.CancelAfter(TimeSpan.FromSeconds(5));
                await upstream.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _targetPort), connectLimit.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            lock (_lock)
            {
                _pairs.Add((client, upstream));
                _pumps.Add(PumpAsync(client, upstream));
                _pumps.Add(PumpAsync(upstream, client));
            }
        }
    }

    /// <summary>Copies bytes one way until either side ends; then ends both.</summary>
    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0) break;
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        Reset(from);
        Reset(to);
    }

    /// <summary>Resets every connection through the proxy (TCP RST, no WebSocket close): both peers see it lost.</summary>
    public void CutAll()
    {
        List<(Socket Client, Socket Upstream)> pairs;
        lock (_lock)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }
        Interlocked.Increment(ref _cuts);
        foreach (var (client, upstream) in pairs)
        {
            Reset(client);
            Reset(upstream);
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
        Task[] pumps;
        lock (_lock) pumps = [.. _pumps];
        await Task.WhenAll([_accepting, .. pumps]).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
