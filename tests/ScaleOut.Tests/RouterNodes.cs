using WampContracts.Testing;

namespace WampContracts.ScaleOut.Tests;

/// <summary>Standalone router processes joined by one Redis (<c>--redis</c>), started and killed like real deployments.</summary>
internal static class RouterNodes
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static async Task<(PeerProcess Process, Uri Url)> StartAsync(RedisServer redis, double nodeTimeoutSeconds = 5)
    {
        string dll = WampContracts.Testing.RouterTool.Dll;
        var process = PeerProcess.Start("dotnet",
            [dll, "--port", "0", "--redis", redis.Endpoint, "--node-timeout", nodeTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromMinutes(5));
        string line = await process.WaitForLineAsync("listening on ", Bound);
        var url = new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal)));
        return (process, url);
    }

    /// <summary>Waits (bounded) until <paramref name="session"/>'s node sees <paramref name="callees"/> callees of <paramref name="procedure"/>, on any node.</summary>
    public static async Task WaitForCalleesAsync(WampSession session, string procedure, int callees)
    {
        using var timeout = new CancellationTokenSource(Bound);
        int seen = -1;
        while (true)
        {
            var lookup = await session.CallAsync("wamp.registration.lookup", WampPayload.FromArgs(procedure), cancellationToken: timeout.Token);
            var id = lookup.Payload.Arguments[0];
            if (id.ValueKind == System.Text.Json.JsonValueKind.Number)
            {
                var count = await session.CallAsync("wamp.registration.count_callees", WampPayload.FromArgs(id.GetInt64()), cancellationToken: timeout.Token);
                seen = count.Payload.Arguments[0].GetInt32();
                if (seen == callees) return;
            }
            else
            {
                seen = 0;
            }
            // Registrations reach the other nodes over Redis: poll until they did, within the bound.
            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"'{procedure}' has {seen} callees, not {callees}, after {Bound.TotalSeconds:0} s");
            }
        }
    }

    /// <summary>Where the scale-out tests write what they measured (test.sh prints it after the run).</summary>
    public static void Report(string line)
    {
        if (Environment.GetEnvironmentVariable("WAMP_SCALEOUT_REPORT") is { Length: > 0 } file)
            File.AppendAllText(file, line + Environment.NewLine);
    }
}
