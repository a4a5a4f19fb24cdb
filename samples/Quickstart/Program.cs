using System.Text.Json;
using WampContracts;
using WampContracts.Router;

// Starts the embedded router on a free loopback port, registers com.example.conferences.get in one session
// and calls it from another, through a real WebSocket. Pass --serve to keep the router running until Ctrl+C.
var conferences = new Dictionary<int, Conference> { [123] = new("deSymfony", "Madrid", 123) };

await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
Console.WriteLine($"router: {router.Url}");

await using var callee = await WampSession.ConnectAsync(router.Url!, "realm1");
await using var registration = await callee.RegisterAsync("com.example.conferences.get", (invocation, _) =>
{
    int id = invocation.Payload.GetArgument<int>(0);
    if (!conferences.TryGetValue(id, out var conference))
        throw new WampException("com.example.error.not_found", WampPayload.FromArgs([$"conference {id} not found"], new Dictionary<string, object?> { ["id"] = id }));
    return ValueTask.FromResult(WampPayload.FromArgs(conference));
});

await using var caller = await WampSession.ConnectAsync(router.Url!, "realm1");
var result = await caller.CallAsync("com.example.conferences.get", WampPayload.FromArgs(123));
Console.WriteLine($"com.example.conferences.get(123) -> {result.Payload.GetArgumentJson(0).ToUtf8String()}");

try
{
    await caller.CallAsync("com.example.conferences.get", WampPayload.FromArgs(999));
}
catch (WampException e)
{
    Console.WriteLine($"com.example.conferences.get(999) -> {e.Uri} {JsonSerializer.Serialize(e.Args)} {JsonSerializer.Serialize(e.Kwargs)}");
}

if (args.Contains("--serve"))
{
    Console.WriteLine("serving until Ctrl+C");
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
    await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { });
}

record Conference(string Name, string Where, int Id);

static class Utf8
{
    public static string ToUtf8String(this ReadOnlyMemory<byte> json) => System.Text.Encoding.UTF8.GetString(json.Span);
}
