using System.ComponentModel;

namespace WampContracts;

/// <summary>
/// The object a generated callee stub or subscriber dispatches to. Attached with an instance, that instance, always.
/// Attached with a factory (a host that resolves the implementation from a dependency-injection scope per
/// invocation), each invocation or event gets its own target, released when its handler has finished.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WampContractTargets
{
    // The target of the invocation or event running in this flow, with the contract it was attached for.
    private static readonly AsyncLocal<(Type Contract, object Target)?> Current = new();

    // Set only while AttachScopedAsync attaches: the handlers created then open a target scope per invocation.
    private static readonly AsyncLocal<Attachment?> Attaching = new();

    /// <summary>
    /// What generated code calls the contract's method on: <paramref name="target"/>, the instance it was attached
    /// with, or for a stub attached with a factory (no instance), the target of the running invocation's scope.
    /// </summary>
    public static T Resolve<T>(T? target) where T : class =>
        target ?? (Current.Value is { } current && current.Contract == typeof(T)
            ? (T)current.Target
            : throw new InvalidOperationException($"No target for '{typeof(T).FullName}': its stub was attached with a factory, and this is not one of its invocations."));

    /// <summary>
    /// Registers (or, for an events contract, subscribes) the generated stub of <typeparamref name="T"/> so that each
    /// invocation (or event) runs on the target of a scope <paramref name="openScope"/> opens for it, disposed after
    /// the handler has finished (after the last item of a stream).
    /// </summary>
    internal static async Task<IAsyncDisposable> AttachScopedAsync<T>(WampSession session, Func<ITargetScope> openScope, bool events, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(openScope);
        var binding = (events ? WampContractRegistry.FindEvents<T>() : WampContractRegistry.FindService<T>())
            ?? throw new InvalidOperationException($"No generated WAMP code was found for '{typeof(T).FullName}'. Mark it with [{(events ? "WampEvents" : "WampService")}] and reference the WampContracts generator.");
        // Visible only inside this call (an async method restores its caller's values on return).
        Attaching.Value = new Attachment(typeof(T), openScope);
        // No instance: every handler created now resolves its target per invocation.
        return await binding.Attach(session, null!, cancellationToken).ConfigureAwait(false);
    }

    internal static WampProcedureHandler Wrap(WampProcedureHandler handler)
    {
        if (Attaching.Value is not { } attachment) return handler;
        return async (invocation, cancellationToken) =>
        {
            var scope = attachment.OpenScope();
            await using (scope.ConfigureAwait(false))
            {
                Current.Value = (attachment.Contract, scope.Target);
                return await handler(invocation, cancellationToken).ConfigureAwait(false);
            }
        };
    }

    internal static WampEventHandler Wrap(WampEventHandler handler)
    {
        if (Attaching.Value is not { } attachment) return handler;
        return async (@event, cancellationToken) =>
        {
            var scope = attachment.OpenScope();
            await using (scope.ConfigureAwait(false))
            {
                Current.Value = (attachment.Contract, scope.Target);
                await handler(@event, cancellationToken).ConfigureAwait(false);
            }
        };
    }

    private sealed record Attachment(Type Contract, Func<ITargetScope> OpenScope);

    /// <summary>The target of one invocation or event, and what to release after it.</summary>
    internal interface ITargetScope : IAsyncDisposable
    {
        object Target { get; }
    }
}
