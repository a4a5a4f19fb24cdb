namespace WampContracts.Hosting.Tests;

public sealed record Item(int Id, string Name);

[WampService("com.test.inventory")]
public interface IInventory
{
    [NoSideEffects]
    Task<Item> Get(int id, CancellationToken cancellationToken = default);
}

[WampEvents("com.test.inventory")]
public interface IInventoryEvents
{
    Task Changed(Item item);
}

/// <summary>Counts the instances DI created and the scopes it disposed, across scopes.</summary>
public sealed class Tracker
{
    private int _created;
    private int _disposed;

    public int Created => Volatile.Read(ref _created);

    public int Disposed => Volatile.Read(ref _disposed);

    public TaskCompletionSource<Item> EventReceived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int OnCreated() => Interlocked.Increment(ref _created);

    public void OnDisposed() => Interlocked.Increment(ref _disposed);
}

/// <summary>A scoped dependency: disposed with its invocation's scope.</summary>
public sealed class ScopeProbe(Tracker tracker) : IDisposable
{
    public void Dispose() => tracker.OnDisposed();
}

/// <summary>The callee: one instance per invocation, each with its scope's probe.</summary>
public sealed class Inventory : IInventory
{
    private readonly int _instance;

    public Inventory(Tracker tracker, ScopeProbe probe)
    {
        _ = probe;
        _instance = tracker.OnCreated();
    }

    public Task<Item> Get(int id, CancellationToken cancellationToken = default) =>
        Task.FromResult(new Item(id, $"item {id} from instance {_instance}"));
}

public sealed class InventoryListener(Tracker tracker, ScopeProbe probe) : IInventoryEvents
{
    public Task Changed(Item item)
    {
        _ = probe;
        tracker.EventReceived.TrySetResult(item);
        return Task.CompletedTask;
    }
}
