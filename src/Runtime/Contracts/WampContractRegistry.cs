using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;

namespace WampContracts;

/// <summary>
/// Where generated code registers what it generated, from a module initializer, so that
/// <see cref="WampSessionContractExtensions"/> finds proxies, stubs, publishers and error types without reflection.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WampContractRegistry
{
    private static readonly ConcurrentDictionary<Type, object> Services = new();
    private static readonly ConcurrentDictionary<Type, object> Events = new();
    private static readonly ConcurrentDictionary<string, Func<WampException, WampException>> Errors = new(StringComparer.Ordinal);

    public static void RegisterService<T>(Func<WampSession, T> createProxy, Func<WampSession, T, CancellationToken, Task<IAsyncDisposable>> register)
        where T : class =>
        Services[typeof(T)] = new Binding<T>(createProxy, register);

    public static void RegisterEvents<T>(Func<WampSession, T> createPublisher, Func<WampSession, T, CancellationToken, Task<IAsyncDisposable>> subscribe)
        where T : class =>
        Events[typeof(T)] = new Binding<T>(createPublisher, subscribe);

    private static readonly ConcurrentDictionary<Type, Func<WampException, WampPayload>> ErrorWriters = new();

    /// <summary>Maps an error URI to a factory that rebuilds the contract's exception type from the received error.</summary>
    public static void RegisterError(string uri, Func<WampException, WampException> create) => Errors[uri] = create;

    /// <summary>
    /// Maps an error URI to a factory that rebuilds <typeparamref name="T"/> from the received error, and <typeparamref name="T"/>
    /// to how its data is written as keyword arguments: <see cref="WampException.Payload"/> of such an exception then holds
    /// those, after the positional arguments it was given (its message).
    /// </summary>
    public static void RegisterError<T>(string uri, Func<WampException, WampException> create, Func<T, WampPayload> write) where T : WampException
    {
        ArgumentNullException.ThrowIfNull(write);
        Errors[uri] = create;
        ErrorWriters[typeof(T)] = e => write((T)e);
    }

    /// <summary>
    /// The payload generated code writes for <paramref name="error"/>'s type; null when it writes none, or when writing
    /// fails (a property that cannot be serialized): the error then still travels, with the payload it was given.
    /// </summary>
    internal static WampPayload? Write(WampException error)
    {
        if (!ErrorWriters.TryGetValue(error.GetType(), out var write)) return null;
        try
        {
            // The positional arguments the exception was given (its message), the keyword arguments its properties.
            return new WampPayload(error.GivenPayload.ArgumentsJson, write(error).KeywordArgumentsJson);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>
    /// Adds a project's source-generated JSON metadata to <see cref="WampJson.DefaultOptions"/>, which generated code
    /// uses unless the session has options of its own: with it, contract types need no reflection (trimming, Native AOT).
    /// </summary>
    public static void RegisterJsonContext(System.Text.Json.Serialization.Metadata.IJsonTypeInfoResolver context)
    {
        ArgumentNullException.ThrowIfNull(context);
        WampTypeInfoResolver.Add(context);
    }

    internal static Binding<T>? FindService<T>() where T : class => Services.TryGetValue(typeof(T), out var b) ? (Binding<T>)b : null;

    internal static Binding<T>? FindEvents<T>() where T : class => Events.TryGetValue(typeof(T), out var b) ? (Binding<T>)b : null;

    /// <summary>Bindings of every registered service (or events) interface that <paramref name="type"/> implements.</summary>
    internal static List<(Type Contract, object Binding)> FindImplemented([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.Interfaces)] Type type, bool events)
    {
        var map = events ? Events : Services;
        var found = new List<(Type, object)>();
        foreach (var contract in type.GetInterfaces())
            if (map.TryGetValue(contract, out var b)) found.Add((contract, b));
        return found;
    }

    /// <summary>The contract's exception for <paramref name="error"/>'s URI, or <paramref name="error"/> itself.</summary>
    internal static WampException Map(WampException error)
    {
        if (!Errors.TryGetValue(error.Uri, out var create)) return error;
        try
        {
            return create(error);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The payload does not fit the contract's exception: keep the untyped error rather than lose it.
            return error;
        }
    }

    internal sealed record Binding<T>(Func<WampSession, T> Create, Func<WampSession, T, CancellationToken, Task<IAsyncDisposable>> Attach)
        : IContractBinding where T : class
    {
        public Task<IAsyncDisposable> AttachUntypedAsync(WampSession session, object target, CancellationToken cancellationToken) =>
            Attach(session, (T)target, cancellationToken);
    }
}
