using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>
/// Authorization in a configured realm, "bank": a "frontend" role that may call and subscribe under <c>com.bank.</c>
/// and a "backend" role that may register and publish there, each test adding roles where it needs them. Sessions get
/// their authrole from a ticket that names it (TestRealms), standing in for a token service.
/// </summary>
public class AuthorizationTests
{
    internal static readonly WampRole Frontend = new()
    {
        Name = "frontend",
        Permissions = [new("com.bank.", WampMatch.Prefix) { Call = true, Subscribe = true }],
    };

    internal static readonly WampRole Backend = new()
    {
        Name = "backend",
        Permissions = [new("com.bank.", WampMatch.Prefix) { Register = true, Publish = true }],
    };

    internal static WampRealmOptions Bank(params WampRole[] more) => new() { Name = "bank", Roles = [Frontend, Backend, .. more] };

    /// <summary>An in-memory router serving <paramref name="realms"/>, whose sessions authenticate with a ticket naming their authrole.</summary>
    internal static WampRouter Create(params WampRealmOptions[] realms) => Create(new WampRouterOptions { RealmSettings = realms });

    internal static WampRouter Create(WampRouterOptions options) => WampRouter.CreateInMemory(TestRealms.WithRoleTickets(options));

    internal static Task<RawClient> JoinAsync(WampRouter router, string authRole, string realm = "bank") =>
        RawClient.JoinAsync(router, realm: realm, authRole: authRole);

    /// <summary>The next message is ERROR for <paramref name="requestId"/> of <paramref name="type"/> with <paramref name="uri"/>; returns its message.</summary>
    internal static async Task<string> ExpectErrorAsync(RawClient client, WampMessageType type, long requestId, string uri)
    {
        var error = await client.ReceiveAsync(WampMessageType.Error);
        Assert.Equal(((long)type, requestId, uri), (error.Id1, error.Id2, error.Uri));
        return MessageOf(error);
    }

    internal static string MessageOf(WampMessage m) => JsonSerializer.Deserialize<string>(m.Payload.GetArgumentJson(0).Span) ?? "";

    private static async Task<long> RegisterAsync(RawClient client, long requestId, string uri, string options = "{}")
    {
        client.Send($$"""[64, {{requestId}}, {{options}}, "{{uri}}"]""");
        var registered = await client.ReceiveAsync(WampMessageType.Registered);
        Assert.Equal(requestId, registered.Id1);
        return registered.Id2;
    }

    private static async Task<long> SubscribeAsync(RawClient client, long requestId, string topic, string options = "{}")
    {
        client.Send($$"""[32, {{requestId}}, {{options}}, "{{topic}}"]""");
        var subscribed = await client.ReceiveAsync(WampMessageType.Subscribed);
        Assert.Equal(requestId, subscribed.Id1);
        return subscribed.Id2;
    }

    // Namespace squatting.

    [Fact]
    public async Task A_prefix_registration_wider_than_the_roles_rules_is_refused_so_it_cannot_catch_other_calls()
    {
        await using var router = Create(Bank());
        await using var backend = await JoinAsync(router, "backend");
        await using var frontend = await JoinAsync(router, "frontend");

        // "com.bank" (no dot) would also catch com.bankrupt.*; the backend's rule covers com.bank.* only.
        backend.Send("""[64, 1, {"match": "prefix"}, "com.bank"]""");
        string message = await ExpectErrorAsync(backend, WampMessageType.Register, 1, WampUris.NotAuthorized);
        Assert.Equal("authrole 'backend' is not authorized to register 'com.bank' (match prefix) in realm 'bank'", message);
        frontend.Send("""[64, 2, {"match": "prefix"}, "com.bank"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Register, 2, WampUris.NotAuthorized);
        frontend.Send("""[64, 3, {"match": "prefix"}, "com.bank.accounts."]""");
        await ExpectErrorAsync(frontend, WampMessageType.Register, 3, WampUris.NotAuthorized);

        // No squatter: calls under com.bank. find no callee.
        frontend.Send("""[48, 4, {}, "com.bank.accounts.list"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Call, 4, WampUris.NoSuchProcedure);

        // Within its rules the backend registers patterns as before.
        long id = await RegisterAsync(backend, 5, "com.bank.accounts.", """{"match": "prefix"}""");
        frontend.Send("""[48, 6, {}, "com.bank.accounts.list"]""");
        Assert.Equal(id, (await backend.ReceiveAsync(WampMessageType.Invocation)).Id2);
    }

    [Fact]
    public async Task Only_sessions_of_the_registering_role_may_join_a_shared_registration()
    {
        var auditor = new WampRole { Name = "auditor", Permissions = [new("com.bank.", WampMatch.Prefix) { Register = true }] };
        await using var router = Create(Bank(auditor));
        await using var owner = await JoinAsync(router, "backend");
        long id = await RegisterAsync(owner, 1, "com.bank.transfer", """{"invoke": "roundrobin"}""");

        await using var frontend = await JoinAsync(router, "frontend");
        frontend.Send("""[64, 2, {"invoke": "roundrobin"}, "com.bank.transfer"]""");
        await ExpectErrorAsync(frontend, WampMessageType.Register, 2, WampUris.NotAuthorized);

        // A role allowed to register the URI still may not join another role's callees.
        await using var other = await JoinAsync(router, "auditor");
        other.Send("""[64, 3, {"invoke": "roundrobin"}, "com.bank.transfer"]""");
        string message = await ExpectErrorAsync(other, WampMessageType.Register, 3, WampUris.NotAuthorized);
        Assert.Contains("join the shared registration of 'com.bank.transfer'", message);

        await using var second = await JoinAsync(router, "backend");
        Assert.Equal(id, await RegisterAsync(second, 4, "com.bank.transfer", """{"invoke": "roundrobin"}"""));
    }

    [Fact]
    public async Task A_procedure_whose_owner_left_cannot_be_taken_over_by_a_role_not_allowed_to_register_it()
    {
        var watcher = new WampRole { Name = "watcher", Permissions = [new(WampUris.SessionOnLeave) { Subscribe = true }] };
        await using var router = Create(Bank(watcher));
        await using var watching = await JoinAsync(router, "watcher");
        await SubscribeAsync(watching, 1, WampUris.SessionOnLeave);
        var owner = await JoinAsync(router, "backend");
        await RegisterAsync(owner, 1, "com.bank.transfer");
        await using var attacker = await JoinAsync(router, "frontend");
        attacker.Send("""[64, 2, {}, "com.bank.transfer"]""");
        await ExpectErrorAsync(attacker, WampMessageType.Register, 2, WampUris.NotAuthorized);

        // The owner's connection drops; once it has left (its registration with it), the attacker tries again at once.
        await owner.DisposeAsync();
        await watching.ReceiveAsync(WampMessageType.Event);
        attacker.Send("""[64, 3, {}, "com.bank.transfer"]""");
        await ExpectErrorAsync(attacker, WampMessageType.Register, 3, WampUris.NotAuthorized);
        attacker.Send("""[48, 4, {}, "com.bank.transfer"]""");
        await ExpectErrorAsync(attacker, WampMessageType.Call, 4, WampUris.NoSuchProcedure);

        // The owner's role takes it back.
        await using var restarted = await JoinAsync(router, "backend");
        long id = await RegisterAsync(restarted, 5, "com.bank.transfer");
        attacker.Send("""[48, 6, {}, "com.bank.transfer"]""");
        Assert.Equal(id, (await restarted.ReceiveAsync(WampMessageType.Invocation)).Id2);
    }

    // The session meta API and the reserved namespace.

    [Fact]
    public async Task The_session_meta_api_is_refused_to_roles_not_granted_it_even_by_a_catch_all_rule()
    {
        var everything = new WampRole
        {
            Name = "everything",
            Permissions = [new("", WampMatch.Prefix) { Call = true, Register = true, Publish = true, Subscribe = true }],
        };
        await using var router = Create(Bank(everything));
        foreach (string role in new[] { "frontend", "everything" })
        {
            await using var client = await JoinAsync(router, role);
            client.Send("""[48, 1, {}, "wamp.session.list"]""");
            Assert.Equal($"authrole '{role}' is not authorized to call 'wamp.session.list' in realm 'bank'",
                await ExpectErrorAsync(client, WampMessageType.Call, 1, WampUris.NotAuthorized));
            client.Send($$"""[48, 2, {}, "wamp.session.get", [{{client.SessionId}}]]""");
            await ExpectErrorAsync(client, WampMessageType.Call, 2, WampUris.NotAuthorized);
            client.Send("""[48, 3, {}, "wamp.session.count"]""");
            await ExpectErrorAsync(client, WampMessageType.Call, 3, WampUris.NotAuthorized);
            client.Send("""[32, 4, {}, "wamp.session.on_join"]""");
            await ExpectErrorAsync(client, WampMessageType.Subscribe, 4, WampUris.NotAuthorized);
            // Patterns that would match wamp.session.on_join and on_leave.
            long requestId = 5;
            foreach (string pattern in new[] { """{"match": "prefix"}, "wamp" """, """{"match": "prefix"}, "w" """,
                         """{"match": "wildcard"}, ".." """, """{"match": "wildcard"}, ".session.on_join" """, """{"match": "wildcard"}, "wamp.session." """, """{"match": "prefix"}, "wamp.session." """ })
            {
                client.Send($"[32, {requestId}, {pattern}]");
                await ExpectErrorAsync(client, WampMessageType.Subscribe, requestId++, WampUris.NotAuthorized);
            }
        }
        // The catch-all role may still subscribe to everything outside the reserved namespace.
        await using var broad = await JoinAsync(router, "everything");
        await SubscribeAsync(broad, 1, "c", """{"match": "prefix"}""");
        await SubscribeAsync(broad, 2, "com..", """{"match": "wildcard"}""");
    }

    [Fact]
    public async Task A_role_granted_the_meta_api_by_a_rule_in_the_wamp_namespace_uses_it()
    {
        var ops = new WampRole { Name = "ops", Permissions = [new("wamp.session.", WampMatch.Prefix) { Call = true, Subscribe = true }] };
        var joins = new WampRole { Name = "joins", Permissions = [new(WampUris.SessionOnJoin) { Subscribe = true }] };
        await using var router = Create(Bank(ops, joins));
        await using var admin = await JoinAsync(router, "ops");
        await using var listener = await JoinAsync(router, "joins");
        await SubscribeAsync(admin, 1, "wamp.session.", """{"match": "prefix"}""");
        await SubscribeAsync(listener, 1, WampUris.SessionOnJoin);
        listener.Send("""[32, 2, {}, "wamp.session.on_leave"]""");
        await ExpectErrorAsync(listener, WampMessageType.Subscribe, 2, WampUris.NotAuthorized);

        await using var user = await JoinAsync(router, "frontend");
        var joined = await admin.ReceiveAsync(WampMessageType.Event);
        Assert.Equal(WampUris.SessionOnJoin, joined.Dict.GetString("topic"u8));
        Assert.Contains("\"authrole\":\"frontend\"", System.Text.Encoding.UTF8.GetString(joined.Payload.ArgumentsJson.Span));
        await listener.ReceiveAsync(WampMessageType.Event);

        admin.Send("""[48, 2, {}, "wamp.session.list"]""");
        var list = await admin.ReceiveAsync(WampMessageType.Result);
        Assert.Contains(user.SessionId.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Text.Encoding.UTF8.GetString(list.Payload.ArgumentsJson.Span));
        admin.Send($$"""[48, 3, {}, "wamp.session.get", [{{user.SessionId}}]]""");
        await admin.ReceiveAsync(WampMessageType.Result);
        listener.Send("""[48, 3, {}, "wamp.session.count"]""");
        await ExpectErrorAsync(listener, WampMessageType.Call, 3, WampUris.NotAuthorized);
    }

    [Fact]
    public async Task Nobody_registers_or_publishes_in_the_wamp_namespace_whatever_the_rules()
    {
        var bold = new WampRole { Name = "bold", Permissions = [new("wamp.", WampMatch.Prefix) { Register = true, Publish = true, Call = true, Subscribe = true }] };
        await using var router = Create(Bank(bold));
        await using var client = await JoinAsync(router, "bold");
        client.Send("""[64, 1, {}, "wamp.session.list"]""");
        await ExpectErrorAsync(client, WampMessageType.Register, 1, WampUris.InvalidUri);
        client.Send("""[16, 2, {"acknowledge": true}, "wamp.session.on_join"]""");
        await ExpectErrorAsync(client, WampMessageType.Publish, 2, WampUris.InvalidUri);
        client.Send("""[64, 3, {"match": "prefix"}, "wamp."]""");
        await ExpectErrorAsync(client, WampMessageType.Register, 3, WampUris.InvalidUri);
    }

    // Pattern subscriptions.

    [Fact]
    public async Task A_pattern_subscription_needs_rules_covering_everything_it_matches()
    {
        await using var router = Create(Bank());
        await using var frontend = await JoinAsync(router, "frontend");
        await using var backend = await JoinAsync(router, "backend");

        long requestId = 1;
        foreach (string pattern in new[] { """{"match": "prefix"}, "c" """, """{"match": "prefix"}, "com.bank" """, """{"match": "wildcard"}, ".." """,
                     """{"match": "wildcard"}, "com..transfer" """, """{"match": "wildcard"}, ".bank.transfer" """ })
        {
            frontend.Send($"[32, {requestId}, {pattern}]");
            string message = await ExpectErrorAsync(frontend, WampMessageType.Subscribe, requestId++, WampUris.NotAuthorized);
            Assert.StartsWith("authrole 'frontend' is not authorized to subscribe to '", message);
        }
        long prefix = await SubscribeAsync(frontend, 10, "com.bank.accounts.", """{"match": "prefix"}""");
        long wildcard = await SubscribeAsync(frontend, 11, "com.bank..updated", """{"match": "wildcard"}""");

        backend.Send("""[16, 12, {}, "com.bank.accounts.opened"]""");
        Assert.Equal(prefix, (await frontend.ReceiveAsync(WampMessageType.Event)).Id1);
        backend.Send("""[16, 13, {}, "com.bank.loans.updated"]""");
        Assert.Equal(wildcard, (await frontend.ReceiveAsync(WampMessageType.Event)).Id1);
    }

    [Fact]
    public async Task A_more_specific_rule_that_denies_keeps_a_wider_pattern_subscription_out()
    {
        var reader = new WampRole
        {
            Name = "reader",
            Permissions =
            [
                new("com.bank.", WampMatch.Prefix) { Subscribe = true },
                new("com.bank.internal.", WampMatch.Prefix), // allows nothing
                new("com.bank..audit", WampMatch.Wildcard), // allows nothing
            ],
        };
        await using var router = Create(Bank(reader));
        await using var client = await JoinAsync(router, "reader");
        client.Send("""[32, 1, {"match": "prefix"}, "com.bank."]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 1, WampUris.NotAuthorized);
        client.Send("""[32, 2, {"match": "wildcard"}, "com.bank.."]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 2, WampUris.NotAuthorized);
        client.Send("""[32, 3, {}, "com.bank.internal.ledger"]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 3, WampUris.NotAuthorized);
        client.Send("""[32, 4, {}, "com.bank.loans.audit"]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 4, WampUris.NotAuthorized);

        // Would receive com.bank.loans.audit.
        client.Send("""[32, 5, {"match": "prefix"}, "com.bank.loans."]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 5, WampUris.NotAuthorized);

        await SubscribeAsync(client, 6, "com.bank.loans.rates");
        await SubscribeAsync(client, 7, "com.bank.public.news.", """{"match": "prefix"}"""); // five components or more: never an audit topic
        await SubscribeAsync(client, 8, "com.bank.loans..daily", """{"match": "wildcard"}""");
        // Would receive com.bank.internal.rates.
        client.Send("""[32, 9, {"match": "wildcard"}, "com.bank..rates"]""");
        await ExpectErrorAsync(client, WampMessageType.Subscribe, 9, WampUris.NotAuthorized);
    }

    // Each action, each kind of rule, and which rule wins.

    public static TheoryData<string, string, bool> Decisions => new()
    {
        // action, URI, allowed: for the role "ranked" below.
        { "call", "com.shop.orders.get", true }, // exact
        { "call", "com.shop.orders.put", false }, // under the prefix rule com.shop.orders., which allows publish only
        { "call", "com.shop.items.get", true }, // wildcard com.shop..get
        { "call", "com.shop.items.delete", false }, // prefix com.shop. allows call, but the wildcard com.shop..delete outranks it
        { "call", "com.shop.admin.delete", true }, // the exact rule outranks the wildcard
        { "call", "com.shop.items.list", true }, // only the prefix com.shop. matches
        { "call", "com.shopping.list", false }, // no rule
        { "register", "com.shop.orders.get", false },
        { "register", "com.svc.orders.get", true }, // prefix com.svc.
        { "register", "com.svc.x.internal", false }, // wildcard com.svc..internal allows nothing
        { "register", "com.reg.one", true }, // exact
        { "register", "com.reg.x.two", true }, // wildcard com.reg..two
        { "register", "com.reg.x.three", false },
        { "subscribe", "com.shop.orders.created", true }, // prefix com.shop.orders. with subscribe
        { "subscribe", "com.shop.items.created", false },
        { "subscribe", "com.shop.items.changed", true }, // wildcard com.shop..changed
        { "subscribe", "com.shop.status", true }, // exact
        { "publish", "com.shop.orders.created", true },
        { "publish", "com.shop.items.created", false },
        { "publish", "com.shop.items.changed", true },
        { "publish", "com.shop.status", true },
        { "call", "com.shop.items.changed", false }, // the wildcard com.shop..changed allows no call, and outranks com.shop.
    };

    internal static readonly WampRole Ranked = new()
    {
        Name = "ranked",
        Permissions =
        [
            new("com.shop.", WampMatch.Prefix) { Call = true },
            new("com.shop.orders.", WampMatch.Prefix) { Publish = true, Subscribe = true },
            new("com.shop.orders.get") { Call = true },
            new("com.shop..get", WampMatch.Wildcard) { Call = true },
            new("com.shop..delete", WampMatch.Wildcard),
            new("com.shop.admin.delete") { Call = true },
            new("com.svc.", WampMatch.Prefix) { Register = true },
            new("com.svc..internal", WampMatch.Wildcard),
            new("com.reg.one") { Register = true },
            new("com.reg..two", WampMatch.Wildcard) { Register = true },
            new("com.shop..changed", WampMatch.Wildcard) { Publish = true, Subscribe = true },
            new("com.shop.status") { Publish = true, Subscribe = true },
        ],
    };

    [Theory]
    [MemberData(nameof(Decisions))]
    public async Task The_most_specific_matching_rule_decides_each_action(string action, string uri, bool allowed)
    {
        await using var router = Create(Bank(Ranked));
        await using var client = await JoinAsync(router, "ranked");
        var (type, frame, ack) = action switch
        {
            "call" => (WampMessageType.Call, $$"""[48, 1, {}, "{{uri}}"]""", WampMessageType.Error),
            "register" => (WampMessageType.Register, $$"""[64, 1, {}, "{{uri}}"]""", WampMessageType.Registered),
            "subscribe" => (WampMessageType.Subscribe, $$"""[32, 1, {}, "{{uri}}"]""", WampMessageType.Subscribed),
            _ => (WampMessageType.Publish, $$"""[16, 1, {"acknowledge": true}, "{{uri}}"]""", WampMessageType.Published),
        };
        client.Send(frame);
        var answer = await client.ReceiveAsync();
        if (allowed)
        {
            // An allowed call finds no callee; anything else is acknowledged.
            Assert.True(answer.Type == ack, $"expected {ack}, got {answer}");
            if (type == WampMessageType.Call) Assert.Equal(WampUris.NoSuchProcedure, answer.Uri);
        }
        else
        {
            Assert.True(answer.Type == WampMessageType.Error && answer.Uri == WampUris.NotAuthorized, $"expected not_authorized, got {answer}");
            Assert.Contains($"{(action is "publish" or "subscribe" ? action + " to" : action)} '{uri}'", MessageOf(answer));
        }
    }

    [Fact]
    public async Task Pattern_registrations_are_allowed_within_prefix_and_wildcard_rules_and_refused_across_them()
    {
        await using var router = Create(Bank(Ranked));
        await using var client = await JoinAsync(router, "ranked");
        await RegisterAsync(client, 1, "com.svc.orders.v1.", """{"match": "prefix"}""");
        await RegisterAsync(client, 2, "com.svc..get", """{"match": "wildcard"}""");
        // Each would also catch com.svc.<something>.internal, which the wildcard rule keeps from the role.
        client.Send("""[64, 3, {"match": "wildcard"}, "com.svc.."]""");
        await ExpectErrorAsync(client, WampMessageType.Register, 3, WampUris.NotAuthorized);
        client.Send("""[64, 4, {"match": "prefix"}, "com.svc.orders."]""");
        await ExpectErrorAsync(client, WampMessageType.Register, 4, WampUris.NotAuthorized);
        client.Send("""[64, 5, {"match": "prefix"}, "com.sv"]""");
        await ExpectErrorAsync(client, WampMessageType.Register, 5, WampUris.NotAuthorized);
    }

    [Fact]
    public async Task An_unacknowledged_publication_that_is_refused_is_dropped_silently()
    {
        await using var router = Create(Bank());
        await using var frontend = await JoinAsync(router, "frontend");
        await using var other = await JoinAsync(router, "frontend");
        await SubscribeAsync(other, 1, "com.bank.news");
        frontend.Send("""[16, 1, {}, "com.bank.news"]""");
        await frontend.AssertNothingPendingAsync();
        await other.AssertNothingPendingAsync();
    }

    // Default deny.

    [Fact]
    public async Task A_role_without_rules_or_not_listed_may_do_nothing()
    {
        var empty = new WampRole { Name = "empty" };
        await using var router = Create(Bank(empty));
        foreach (string role in new[] { "empty", "stranger", "anonymous" })
        {
            await using var client = await JoinAsync(router, role);
            client.Send("""[48, 1, {}, "com.bank.transfer"]""");
            await ExpectErrorAsync(client, WampMessageType.Call, 1, WampUris.NotAuthorized);
            client.Send("""[64, 2, {}, "com.bank.transfer"]""");
            await ExpectErrorAsync(client, WampMessageType.Register, 2, WampUris.NotAuthorized);
            client.Send("""[32, 3, {}, "com.bank.news"]""");
            await ExpectErrorAsync(client, WampMessageType.Subscribe, 3, WampUris.NotAuthorized);
            client.Send("""[16, 4, {"acknowledge": true}, "com.bank.news"]""");
            await ExpectErrorAsync(client, WampMessageType.Publish, 4, WampUris.NotAuthorized);
        }
    }

    [Fact]
    public async Task Open_realms_next_to_configured_ones_still_allow_anything()
    {
        await using var router = Create(new WampRouterOptions { Realms = ["open"], RealmSettings = [Bank()] });
        await using var anyone = await JoinAsync(router, "frontend", realm: "open");
        await RegisterAsync(anyone, 1, "c", """{"match": "prefix"}""");
        await SubscribeAsync(anyone, 2, "wamp.session.on_join");
        anyone.Send("""[48, 3, {}, "wamp.session.list"]""");
        await anyone.ReceiveAsync(WampMessageType.Result);
    }

    // Disclosure.

    [Fact]
    public async Task The_callers_rule_decides_whether_the_caller_is_disclosed_whatever_caller_or_callee_ask()
    {
        var disclosed = new WampRole
        {
            Name = "disclosed",
            Permissions = [new("com.bank.", WampMatch.Prefix) { Call = true, DiscloseCaller = true }],
        };
        await using var router = Create(Bank(disclosed));
        await using var callee = await JoinAsync(router, "backend");
        await RegisterAsync(callee, 1, "com.bank.balance", """{"disclose_caller": true}""");
        await using var hidden = await JoinAsync(router, "frontend");
        await using var shown = await JoinAsync(router, "disclosed");

        hidden.Send("""[48, 1, {"disclose_me": true}, "com.bank.balance"]""");
        var invocation = await callee.ReceiveAsync(WampMessageType.Invocation);
        Assert.False(invocation.Dict.TryFind("caller"u8, out _), invocation.ToString());
        Assert.False(invocation.Dict.TryFind("caller_authid"u8, out _), invocation.ToString());

        shown.Send("""[48, 1, {}, "com.bank.balance"]""");
        invocation = await callee.ReceiveAsync(WampMessageType.Invocation);
        Assert.Equal(shown.SessionId, invocation.Dict.GetInt64("caller"u8));
        Assert.Equal("disclosed", invocation.Dict.GetString("caller_authrole"u8));
        Assert.NotNull(invocation.Dict.GetString("caller_authid"u8));
    }

    [Fact]
    public async Task The_publishers_rule_decides_whether_the_publisher_is_disclosed()
    {
        var announcer = new WampRole
        {
            Name = "announcer",
            Permissions = [new("com.bank.", WampMatch.Prefix) { Publish = true, DisclosePublisher = true }],
        };
        await using var router = Create(Bank(announcer));
        await using var subscriber = await JoinAsync(router, "frontend");
        await SubscribeAsync(subscriber, 1, "com.bank.news");
        await using var backend = await JoinAsync(router, "backend");
        await using var loud = await JoinAsync(router, "announcer");

        backend.Send("""[16, 1, {"disclose_me": true}, "com.bank.news"]""");
        var quiet = await subscriber.ReceiveAsync(WampMessageType.Event);
        Assert.False(quiet.Dict.TryFind("publisher"u8, out _), quiet.ToString());

        loud.Send("""[16, 1, {}, "com.bank.news"]""");
        var named = await subscriber.ReceiveAsync(WampMessageType.Event);
        Assert.Equal(loud.SessionId, named.Dict.GetInt64("publisher"u8));
        Assert.Equal("announcer", named.Dict.GetString("publisher_authrole"u8));
    }

    // Rules are checked when the router starts.

    public static TheoryData<string> InvalidRealms => new() { "twice", "bad-uri", "bad-prefix", "duplicate-rule", "both", "timeout" };

    [Theory]
    [MemberData(nameof(InvalidRealms))]
    public void Invalid_rules_are_refused_when_the_router_is_created(string which)
    {
        WampAuthorizer anyone = static (_, _) => ValueTask.FromResult(WampAuthorization.Allowed);
        var realm = which switch
        {
            "twice" => new WampRealmOptions { Name = "r", Roles = [new() { Name = "a" }, new() { Name = "a" }] },
            "bad-uri" => new WampRealmOptions { Name = "r", Roles = [new() { Name = "a", Permissions = [new("com..x") { Call = true }] }] },
            "bad-prefix" => new WampRealmOptions { Name = "r", Roles = [new() { Name = "a", Permissions = [new("com..", WampMatch.Prefix) { Call = true }] }] },
            "duplicate-rule" => new WampRealmOptions { Name = "r", Roles = [new() { Name = "a", Permissions = [new("com.", WampMatch.Prefix), new("com.", WampMatch.Prefix)] }] },
            "both" => new WampRealmOptions { Name = "r", Roles = [new() { Name = "a", Permissions = [new("com.x")], Authorizer = anyone }] },
            _ => new WampRealmOptions { Name = "r", AuthorizerTimeout = TimeSpan.Zero },
        };
        var e = Assert.Throws<ArgumentException>(() => WampRouter.CreateInMemory(new WampRouterOptions { RealmSettings = [realm] }));
        Assert.StartsWith("Realm 'r'", e.Message);
    }
}
