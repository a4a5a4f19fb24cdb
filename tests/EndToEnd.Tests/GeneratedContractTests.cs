using System.Threading.Channels;
using WampContracts.Router;

namespace WampContracts.EndToEnd.Tests;

/// <summary>Generated callers against generated callees (and a generated publisher against a generated subscriber) through the embedded router.</summary>
public sealed class GeneratedContractTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private WampRouter _router = null!;
    private WampSession _callee = null!;
    private WampSession _caller = null!;
    private IAsyncDisposable _registration = null!;
    private readonly ConferenceService _service = new();

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        _callee = await WampSession.ConnectAsync(_router.Url!, "realm1");
        _caller = await WampSession.ConnectAsync(_router.Url!, "realm1");
        _registration = await _callee.RegisterAsync<IConferences>(_service);
    }

    public async Task DisposeAsync()
    {
        await _registration.DisposeAsync();
        await _caller.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    private IConferences Conferences => _caller.GetProxy<IConferences>();

    [Fact]
    public async Task Task_of_T_returns_the_conference() =>
        Assert.Equal(new Conference("deSymfony", "Madrid", 123), await Conferences.Get(123).WaitAsync(Bound));

    [Fact]
    public async Task A_typed_error_is_thrown_again_on_the_caller_side()
    {
        var e = await Assert.ThrowsAsync<ConferenceNotFoundException>(() => Conferences.Get(999).WaitAsync(Bound));
        Assert.Equal(999, e.Id);
        Assert.Equal("com.example.error.not_found", e.Uri);
        Assert.Equal("conference 999 not found", e.Args[0].GetString());
    }

    [Fact]
    public async Task Default_values_and_renamed_procedures_work()
    {
        var found = await Conferences.Search("Madrid").WaitAsync(Bound);
        Assert.Equal(123, Assert.Single(found).Id);
        Assert.Empty(await Conferences.Search("Oslo", limit: 0).WaitAsync(Bound));
    }

    [Fact]
    public async Task The_idempotency_key_travels_as_call_metadata_not_as_an_argument()
    {
        var ticket = await Conferences.Register(123, new Attendee("Ada", "ada@example.com"), "key-1").WaitAsync(Bound);
        Assert.Equal(new Ticket(123, "Ada", "key-1"), ticket);
        var noKey = await Conferences.Register(123, new Attendee("Bob", "bob@example.com")).WaitAsync(Bound);
        Assert.Null(noKey.RequestId);
    }

    [Fact]
    public async Task IAsyncEnumerable_streams_progressive_results()
    {
        var items = new List<ImportProgress>();
        await foreach (var p in Conferences.Import("file.csv").WithCancellation(new CancellationTokenSource(Bound).Token))
            items.Add(p);
        Assert.Equal([new(1, 3), new(2, 3), new(3, 3)], items);
    }

    [Fact]
    public async Task Task_ValueTask_and_nullable_shapes_work()
    {
        await Conferences.Touch(123).WaitAsync(Bound);
        Assert.Equal(1, _service.Touched);
        Assert.Equal(3, await Conferences.CountAsync());
        Assert.Equal(1, await Conferences.CountAsync("Oslo"));
        await Conferences.Reset();
        Assert.Null(await Conferences.Find("nothing").WaitAsync(Bound));
        Assert.Equal(7, (await Conferences.Find("NDC").WaitAsync(Bound))!.Id);
    }

    [Fact]
    public async Task The_contract_timeout_is_sent_with_the_call()
    {
        // [Timeout(2000)] on Get: a callee that takes longer is cut off by the router with wamp.error.timeout.
        await using var slowCallee = await WampSession.ConnectAsync(_router.Url!, "slow");
        await using var caller = await WampSession.ConnectAsync(_router.Url!, "slow");
        var seen = new TaskCompletionSource<long?>();
        await using var registration = await slowCallee.RegisterAsync("com.example.conferences.get", (inv, ct) =>
        {
            seen.TrySetResult(inv.Details.GetInt64("timeout"u8));
            return ValueTask.FromResult(WampPayload.FromJson("""[{"name":"x","where":"y","id":1}]"""));
        });
        await caller.GetProxy<IConferences>().Get(1).WaitAsync(Bound);
        Assert.Equal(2000, await seen.Task.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_callers_token_cancels_the_callees_work()
    {
        await using var callee = await WampSession.ConnectAsync(_router.Url!, "cancel");
        await using var caller = await WampSession.ConnectAsync(_router.Url!, "cancel");
        var blocking = new BlockingConferences();
        await using var registration = await callee.RegisterAsync<IConferences>(blocking);
        using var cts = new CancellationTokenSource();
        var call = caller.GetProxy<IConferences>().Get(1, cts.Token);
        await blocking.Started.Task.WaitAsync(Bound);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Bound));
        await blocking.Canceled.Task.WaitAsync(Bound);
    }

    [Fact]
    public async Task A_generated_publisher_reaches_a_generated_subscriber()
    {
        var handler = new EventsHandler();
        await using var subscription = await _callee.SubscribeAsync<IConferenceEvents>(handler);
        var events = _caller.GetPublisher<IConferenceEvents>();
        await events.Updated(new Conference("deSymfony", "Madrid", 123));
        await events.Deleted(7);
        await events.Deleted(8, "cancelled");
        Assert.Equal("updated deSymfony", await handler.Seen.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal("deleted 7 ", await handler.Seen.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal("deleted 8 cancelled", await handler.Seen.Reader.ReadAsync().AsTask().WaitAsync(Bound));
    }

    [Fact]
    public async Task A_contract_without_generated_code_gets_a_clear_error()
    {
        var e = Assert.Throws<InvalidOperationException>(() => _caller.GetProxy<IDisposable>());
        Assert.Contains("[WampService]", e.Message);
    }

    private sealed class EventsHandler : IConferenceEvents
    {
        public Channel<string> Seen { get; } = Channel.CreateUnbounded<string>();

        public Task Updated(Conference conference)
        {
            Seen.Writer.TryWrite("updated " + conference.Name);
            return Task.CompletedTask;
        }

        public ValueTask Deleted(int id, string? reason = null)
        {
            Seen.Writer.TryWrite($"deleted {id} {reason}");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class BlockingConferences : IConferences
    {
        public TaskCompletionSource Started { get; } = new();
        public TaskCompletionSource Canceled { get; } = new();

        public async Task<Conference> Get(int id, CancellationToken cancellationToken = default)
        {
            using var _ = cancellationToken.Register(() => Canceled.TrySetResult());
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }

        public Task<IReadOnlyList<Conference>> Search(string city, int limit = 10, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<Ticket> Register(int conferenceId, Attendee attendee, string? requestId = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public IAsyncEnumerable<ImportProgress> Import(string source, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task Touch(int id) => throw new NotSupportedException();
        public ValueTask<int> CountAsync(string? city = null) => throw new NotSupportedException();
        public ValueTask Reset() => throw new NotSupportedException();
        public Task<Conference?> Find(string name) => throw new NotSupportedException();
    }
}
