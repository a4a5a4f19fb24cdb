using Quickstart;
using WampContracts;
using WampContracts.Router;

// Starts the embedded router on a free loopback port, registers the IConferences service in one session and
// calls it from another through a real WebSocket, with the generated proxy and stub.
// Pass --serve to keep the router running until Ctrl+C or SIGTERM.
await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
Console.WriteLine($"router: {router.Url}");

await using var callee = await WampSession.ConnectAsync(router.Url!, "realm1");
await using var registration = await callee.RegisterAsync<IConferences>(new ConferenceService());

await using var caller = await WampSession.ConnectAsync(router.Url!, "realm1");
IConferences conferences = caller.GetProxy<IConferences>();

Conference conference = await conferences.Get(123);
Console.WriteLine($"await conferences.Get(123) -> {conference}");

try
{
    await conferences.Get(999);
}
catch (ConferenceNotFoundException e)
{
    Console.WriteLine($"await conferences.Get(999) -> {nameof(ConferenceNotFoundException)}: {e.Message}");
}

if (args.Contains("--serve"))
{
    Console.WriteLine("serving until Ctrl+C or SIGTERM");
    var stopped = new TaskCompletionSource();
    // One handler for the stop signals; the router says GOODBYE to every session as it is disposed.
    using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
    using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
    await stopped.Task;

    void Stop(System.Runtime.InteropServices.PosixSignalContext context)
    {
        context.Cancel = true;
        stopped.TrySetResult();
    }
}

sealed class ConferenceService : IConferences
{
    private static readonly Conference[] All = [new("deSymfony", "Madrid", 123), new("NDC", "Oslo", 7)];

    public Task<Conference> Get(int id, CancellationToken cancellationToken = default) =>
        All.FirstOrDefault(c => c.Id == id) is { } c ? Task.FromResult(c) : throw new ConferenceNotFoundException(id);

    public Task<IReadOnlyList<Conference>> Search(string city, int limit = 10, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<Conference>>(All.Where(c => c.Where == city).Take(limit).ToArray());
}
