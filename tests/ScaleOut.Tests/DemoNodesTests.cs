using WampContracts.Testing;

namespace WampContracts.ScaleOut.Tests;

/// <summary>The conferences demo run as two nodes on one Redis (<c>--serve --redis HOST:PORT</c>).</summary>
public sealed class DemoNodesTests
{
    private static async Task<(PeerProcess Process, Uri Url)> StartDemoAsync(RedisServer redis)
    {
        var process = PeerProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "Conferences.dll"), "--serve", "--port", "0", "--redis", redis.Endpoint],
            TimeSpan.FromMinutes(5));
        string line = await process.WaitForLineAsync("router: ", RouterNodes.Bound);
        await process.WaitForLineAsync("serving until", RouterNodes.Bound);
        return (process, new Uri(line.Split(' ').First(w => w.StartsWith("ws://", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task A_page_on_node_A_sees_an_update_made_through_node_B()
    {
        await using var redis = await RedisServer.StartAsync();
        var (a, urlA) = await StartDemoAsync(redis);
        await using var _a = a;
        var (b, urlB) = await StartDemoAsync(redis);
        await using var _b = b;

        // What the page does on node A (an anonymous browser session), and another page on node B.
        await using var pageA = await WampSession.ConnectAsync(urlA, "conferences");
        await using var pageB = await WampSession.ConnectAsync(urlB, "conferences");
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await pageA.SubscribeAsync("com.example.conferences.updated", (ev, _) =>
        {
            updated.TrySetResult(ev.Payload.Arguments[0].GetProperty("where").GetString()!);
            return ValueTask.CompletedTask;
        });
        await pageB.CallAsync("com.example.conferences.update", WampPayload.FromArgs(42, "Brno"));
        Assert.Equal("Brno", await updated.Task.WaitAsync(RouterNodes.Bound));
    }
}
