using System.Collections.Concurrent;
using WampContracts.Router;

namespace WampContracts.EndToEnd.Tests;

/// <summary>
/// Call and invocation interceptors, caller metadata and the callee's invocation context, through our router over
/// WebSockets. The realm discloses callers of role <c>frontend</c> (its rule says so), as Crossbar.io's disclose_caller.
/// </summary>
public sealed class InterceptorTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private WampRouter _router = null!;
    private WampSession _callee = null!;
    private IAsyncDisposable _registration = null!;
    private readonly ConcurrentQueue<string> _trail = new();
    private Gateway _gateway = null!;

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions
        {
            Port = 0,
            RealmSettings =
            [
                new WampRealmOptions
                {
                    Name = "realm1",
                    // A ticket names the role its holder gets (what a token service would vouch for).
                    Authentication = [new WampTicketAuthenticator { Verify = static (authId, ticket, ct) => new(new WampPrincipal(authId, ticket)) }],
                    Roles =
                    [
                        new WampRole { Name = "frontend", Permissions = [new WampPermission("com.example.", WampMatch.Prefix) { Call = true, DiscloseCaller = true }] },
                        new WampRole { Name = "backend", Permissions = [new WampPermission("com.example.", WampMatch.Prefix) { Register = true, Call = true }] },
                    ],
                },
            ],
        });
        _callee = await ConnectAsync("svc", "backend", new WampSessionOptions
        {
            InvocationInterceptors = [new TenantGate(_trail), new Recording("inner-callee", _trail)],
        });
        _gateway = new Gateway(_callee.GetProxy<IConferences>());
        _registration = await _callee.RegisterAsync<IGateway>(_gateway);
    }

    public async Task DisposeAsync()
    {
        await _registration.DisposeAsync();
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
    }

    private Task<WampSession> ConnectAsync(string authId, string role, WampSessionOptions? options = null) =>
        WampSession.ConnectAsync(_router.Url!, "realm1", new WampSessionOptions
        {
            Authentication = new WampAuthentication { AuthId = authId, Methods = [WampCredential.Ticket(role)] },
            CallInterceptors = options?.CallInterceptors ?? [],
            InvocationInterceptors = options?.InvocationInterceptors ?? [],
        });

    [Fact]
    public async Task A_typed_callee_reads_its_callers_identity_deadline_and_metadata_from_the_invocation_context()
    {
        await using var caller = await ConnectAsync("joe", "frontend");
        CallerInfo info;
        using (WampCallContext.WithMetadata("x_tenant", "acme"))
        using (WampTimeout.Override(TimeSpan.FromSeconds(5)))
            info = await caller.GetProxy<IGateway>().WhoAmI().WaitAsync(Bound);

        Assert.Equal("com.example.gateway.who_am_i", info.Procedure);
        Assert.Equal(caller.SessionId, info.Session);
        Assert.Equal("joe", info.AuthId);
        Assert.Equal("frontend", info.AuthRole);
        Assert.Equal("acme", info.Tenant);
        Assert.Equal("acme", info.TenantItem); // left by the callee's interceptor for the handler
        Assert.Equal(1, info.Attempt);
        Assert.InRange(info.RemainingMs!.Value, 0, 5000);
        Assert.Equal(("WampContracts.EndToEnd.Tests.IGateway", "WhoAmI"), (info.Service, info.Method));
        Assert.Null(WampInvocationContext.Current); // only inside a handler
    }

    [Fact]
    public async Task Call_interceptors_run_in_order_add_metadata_and_observe_results_and_errors()
    {
        await using var caller = await ConnectAsync("joe", "frontend", new WampSessionOptions
        {
            CallInterceptors = [new Recording("outer", _trail), new AddTenant("globex"), new Recording("inner", _trail)],
        });
        var gateway = caller.GetProxy<IGateway>();

        var info = await gateway.WhoAmI().WaitAsync(Bound);
        Assert.Equal("globex", info.Tenant); // added by an interceptor, read by the callee
        Assert.Equal(
            ["outer>com.example.gateway.who_am_i#1", "inner>com.example.gateway.who_am_i#1",
             "gate>globex", "inner-callee>com.example.gateway.who_am_i#1", "inner-callee<ok", "gate<ok",
             "inner<ok", "outer<ok"],
            _trail.ToArray());

        _trail.Clear();
        await Assert.ThrowsAsync<WampException>(() => gateway.Crash().WaitAsync(Bound));
        Assert.Contains("outer<wamp.error.runtime_error", _trail);
        Assert.Contains("inner-callee<System.InvalidOperationException", _trail);
    }

    [Fact]
    public async Task A_call_interceptor_can_answer_without_calling_the_router()
    {
        await using var caller = await ConnectAsync("joe", "frontend", new WampSessionOptions { CallInterceptors = [new Cache()] });
        // Nobody registered this procedure: the answer can only come from the interceptor.
        var result = await caller.CallAsync("com.example.cached").WaitAsync(Bound);
        Assert.Equal(42, result.Payload.GetArgument<int>(0));
        await Assert.ThrowsAsync<WampException>(() => caller.CallAsync("com.example.not_cached").WaitAsync(Bound));
    }

    [Fact]
    public async Task An_invocation_interceptor_can_refuse_before_the_handler_runs()
    {
        await using var caller = await ConnectAsync("joe", "frontend");
        // No tenant: the callee's gate refuses, and the handler never runs.
        var e = await Assert.ThrowsAsync<WampException>(() => caller.GetProxy<IGateway>().Stall().WaitAsync(Bound));
        Assert.Equal("com.example.error.no_tenant", e.Uri);
        Assert.Equal(0, _gateway.Stalled);
        Assert.Contains("gate<com.example.error.no_tenant", _trail);
    }

    /// <summary>Writes what passes through it, before and after.</summary>
    private sealed class Recording(string name, ConcurrentQueue<string> trail) : IWampCallInterceptor, IWampInvocationInterceptor
    {
        public async Task<WampResult> CallAsync(WampOutgoingCall call, WampCallContinuation next, CancellationToken cancellationToken)
        {
            trail.Enqueue($"{name}>{call.Procedure}#{call.Attempt}");
            try
            {
                var result = await next(call, cancellationToken);
                trail.Enqueue($"{name}<ok");
                return result;
            }
            catch (WampException e)
            {
                trail.Enqueue($"{name}<{e.Uri}");
                throw;
            }
        }

        public async ValueTask<WampPayload> InvokeAsync(WampInvocation invocation, WampProcedureHandler next, CancellationToken cancellationToken)
        {
            Assert.Same(invocation, WampInvocationContext.Current);
            trail.Enqueue($"{name}>{invocation.Procedure}#{invocation.Attempt}");
            try
            {
                var result = await next(invocation, cancellationToken);
                trail.Enqueue($"{name}<ok");
                return result;
            }
            catch (Exception e)
            {
                trail.Enqueue($"{name}<{(e as WampException)?.Uri ?? e.GetType().FullName}");
                throw;
            }
        }
    }

    private sealed class AddTenant(string tenant) : IWampCallInterceptor
    {
        public Task<WampResult> CallAsync(WampOutgoingCall call, WampCallContinuation next, CancellationToken cancellationToken)
        {
            call.Metadata["x_tenant"] = tenant;
            return next(call, cancellationToken);
        }
    }

    private sealed class Cache : IWampCallInterceptor
    {
        public Task<WampResult> CallAsync(WampOutgoingCall call, WampCallContinuation next, CancellationToken cancellationToken) =>
            call.Procedure == "com.example.cached"
                ? Task.FromResult(new WampResult(WampPayload.FromArgs(42), default, isProgress: false))
                : next(call, cancellationToken);
    }

    /// <summary>Refuses invocations without a tenant; hands the tenant to the handler through the invocation's items.</summary>
    private sealed class TenantGate(ConcurrentQueue<string> trail) : IWampInvocationInterceptor
    {
        public async ValueTask<WampPayload> InvokeAsync(WampInvocation invocation, WampProcedureHandler next, CancellationToken cancellationToken)
        {
            if (invocation.GetMetadata("x_tenant") is not { } tenant)
            {
                trail.Enqueue("gate<com.example.error.no_tenant");
                throw new WampException("com.example.error.no_tenant", "a tenant is required");
            }
            trail.Enqueue($"gate>{tenant}");
            invocation.Items["tenant"] = tenant;
            try
            {
                var result = await next(invocation, cancellationToken);
                trail.Enqueue("gate<ok");
                return result;
            }
            catch
            {
                trail.Enqueue("gate<failed");
                throw;
            }
        }
    }
}
