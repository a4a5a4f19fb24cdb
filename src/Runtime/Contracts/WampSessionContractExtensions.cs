using System.Diagnostics.CodeAnalysis;

namespace WampContracts;

/// <summary>Typed access to <c>[WampService]</c> and <c>[WampEvents]</c> contracts through their generated code.</summary>
public static class WampSessionContractExtensions
{
    /// <summary>A caller proxy for service <typeparamref name="T"/>: each method call is a WAMP call.</summary>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> has no generated code.</exception>
    public static T GetProxy<T>(this WampSession session) where T : class
    {
        ArgumentNullException.ThrowIfNull(session);
        var binding = WampContractRegistry.FindService<T>() ?? throw NotGenerated(typeof(T), "WampService");
        return binding.Create(session);
    }

    /// <summary>
    /// Registers every procedure of the service interfaces <paramref name="implementation"/> implements (or of
    /// <typeparamref name="T"/>, when it is the contract). Dispose the result to unregister them all.
    /// </summary>
    public static Task<IAsyncDisposable> RegisterAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] T>(
        this WampSession session, T implementation, CancellationToken cancellationToken = default) where T : class
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(implementation);
        if (WampContractRegistry.FindService<T>() is { } binding) return binding.Attach(session, implementation, cancellationToken);
        return AttachAll(session, implementation, WampContractRegistry.FindImplemented(typeof(T), events: false), "WampService", cancellationToken);
    }

    /// <summary>A publisher for events interface <typeparamref name="T"/>: each method call publishes to its topic.</summary>
    public static T GetPublisher<T>(this WampSession session) where T : class
    {
        ArgumentNullException.ThrowIfNull(session);
        var binding = WampContractRegistry.FindEvents<T>() ?? throw NotGenerated(typeof(T), "WampEvents");
        return binding.Create(session);
    }

    /// <summary>
    /// Subscribes <paramref name="handler"/> to every topic of the events interfaces it implements (or of <typeparamref name="T"/>).
    /// Dispose the result to unsubscribe them all.
    /// </summary>
    public static Task<IAsyncDisposable> SubscribeAsync<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] T>(
        this WampSession session, T handler, CancellationToken cancellationToken = default) where T : class
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(handler);
        if (WampContractRegistry.FindEvents<T>() is { } binding) return binding.Attach(session, handler, cancellationToken);
        return AttachAll(session, handler, WampContractRegistry.FindImplemented(typeof(T), events: true), "WampEvents", cancellationToken);
    }

    private static Task<IAsyncDisposable> AttachAll<T>(WampSession session, T target, List<(Type Contract, object Binding)> bindings, string attribute, CancellationToken cancellationToken)
        where T : class
    {
        if (bindings.Count == 0) throw NotGenerated(typeof(T), attribute);
        return WampContractHandle.AttachAllAsync(bindings, (b, ct) => ((IContractBinding)b.Binding).AttachUntypedAsync(session, target, ct), cancellationToken);
    }

    private static InvalidOperationException NotGenerated(Type type, string attribute) =>
        new($"No generated WAMP code was found for '{type.FullName}'. Mark the contract interface with [{attribute}] and reference " +
            "the WampContracts generator (see the README); for an implementation, pass a type that implements the contract.");
}

/// <summary>Lets a binding attach a target whose static type is not the contract interface.</summary>
internal interface IContractBinding
{
    Task<IAsyncDisposable> AttachUntypedAsync(WampSession session, object target, CancellationToken cancellationToken);
}

/// <summary>Several registrations or subscriptions released together.</summary>
internal sealed class WampContractHandle(IReadOnlyList<IAsyncDisposable> handles) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => DisposeAllAsync(handles);

    /// <summary>Attaches every item in order; if one fails, releases those already attached and rethrows.</summary>
    public static async Task<IAsyncDisposable> AttachAllAsync<TItem>(IReadOnlyCollection<TItem> items, Func<TItem, CancellationToken, Task<IAsyncDisposable>> attach, CancellationToken cancellationToken)
    {
        var attached = new List<IAsyncDisposable>(items.Count);
        try
        {
            foreach (var item in items) attached.Add(await attach(item, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await DisposeAllAsync(attached).ConfigureAwait(false);
            throw;
        }
        return attached.Count == 1 ? attached[0] : new WampContractHandle(attached);
    }

    public static async ValueTask DisposeAllAsync(IReadOnlyList<IAsyncDisposable> handles)
    {
        foreach (var h in handles) await h.DisposeAsync().ConfigureAwait(false);
    }
}
