using System.Net;
using System.Net.Sockets;
using WampContracts.Testing;

namespace WampContracts.ScaleOut.Tests;

/// <summary>
/// Debian's redis-server on a free loopback port, without persistence (<c>--save '' --appendonly no</c>); stopped by
/// its process id. test.sh installs it when it is missing.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private PeerProcess _process;

    private RedisServer(PeerProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        int port = FreePort();
        return new RedisServer(await StartProcessAsync(port), port);
    }

    private static async Task<PeerProcess> StartProcessAsync(int port)
    {
        var process = PeerProcess.Start("redis-server",
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            TimeSpan.FromMinutes(10));
        await process.WaitForLineAsync("Ready to accept connections", Bound);
        return process;
    }

    /// <summary>Kills the server (its data is gone: nothing is persisted).</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync(Bound);
    }

    /// <summary>Starts it again on the same port, empty.</summary>
    public async Task RestartAsync()
    {
        await _process.DisposeAsync();
        _process = await StartProcessAsync(Port);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
