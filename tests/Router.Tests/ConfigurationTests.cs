using System.Net;
using System.Text;
using System.Text.Json;
using WampContracts.Protocol;
using WampContracts.Router.Configuration;

namespace WampContracts.Router.Tests;

/// <summary>
/// The Crossbar.io-shaped configuration file: the example in samples/RouterConfig loaded and served over real
/// WebSockets, Crossbar.io's starred URIs, the auth and TLS sections read into records (and refused when applied,
/// until the router supports them), and invalid files refused with the JSON path of the setting at fault.
/// </summary>
public class ConfigurationTests
{
    private static readonly string SamplePath = Path.Combine(AppContext.BaseDirectory, "RouterConfig", "config.json");

    [Fact]
    public void The_example_file_reads_into_realms_roles_permissions_and_a_transport()
    {
        var config = WampRouterConfiguration.Load(SamplePath);
        var realm = Assert.Single(config.Realms);
        Assert.Equal("bank", realm.Name);
        Assert.Equal(["anonymous", "backend", "ops"], realm.Roles.Select(r => r.Name));
        Assert.Equal(
            [
                new WampPermission("com.bank.", WampMatch.Prefix) { Call = true, Subscribe = true },
                new WampPermission("com.bank..admin", WampMatch.Wildcard),
            ],
            realm.Roles[0].Permissions);
        Assert.Equal(new WampPermission("com.bank.", WampMatch.Prefix)
        {
            Call = true, Register = true, Publish = true, Subscribe = true, DiscloseCaller = true, DisclosePublisher = true,
        }, Assert.Single(realm.Roles[1].Permissions));

        var transport = config.Transport!;
        Assert.Equal(("web", "/ws", 8080, IPAddress.Loopback, 4194304), (transport.Type, transport.Path, transport.Endpoint.Port, transport.Endpoint.Address, transport.MaxMessageSize));
        Assert.Null(transport.Auth);

        var options = config.ToOptions();
        Assert.Equal((IPAddress.Loopback, 8080, 4194304), (options.Address, options.Port, options.MaxMessageSize));
        Assert.Same(config.Realms, options.RealmSettings);
        Assert.Equal(0, config.ToOptions(port: 0).Port);
    }

    [Fact]
    public async Task The_example_file_served_over_websockets_applies_its_rules()
    {
        await using var router = await WampRouter.StartAsync(TestRealms.WithRoleTickets(WampRouterConfiguration.Load(SamplePath).ToOptions(port: 0)));
        var url = new Uri(router.Url!, "ws");

        await using var backend = await SocketClient.JoinAsync(url, "bank", "backend");
        await backend.SendAsync("""[64, 1, {}, "com.bank.balance"]""");
        await backend.ReceiveAsync(WampMessageType.Registered);

        // Our client joins as "anonymous": it may call and subscribe under com.bank., nothing more.
        await using var browser = await WampSession.ConnectAsync(url, "bank");
        var events = new List<WampEvent>();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await browser.SubscribeAsync("com.bank.news", (e, _) =>
        {
            events.Add(e);
            received.TrySetResult();
            return ValueTask.CompletedTask;
        });
        var call = browser.CallAsync("com.bank.balance");
        var invocation = await backend.ReceiveAsync(WampMessageType.Invocation);
        Assert.Null(invocation.Dict.GetInt64("caller"u8)); // anonymous: disclose caller false
        await backend.SendAsync($"[70, {invocation.Id1}, {{}}, [42]]");
        Assert.Equal("[42]", Encoding.UTF8.GetString((await call.WaitAsync(SocketClient.Bound)).Payload.ArgumentsJson.Span));

        await backend.SendAsync("""[16, 2, {}, "com.bank.news", ["rates up"]]""");
        await received.Task.WaitAsync(SocketClient.Bound);
        Assert.Equal(backend.SessionId, events[0].Details.GetInt64("publisher"u8)); // backend: disclose publisher true

        var admin = await Assert.ThrowsAsync<WampException>(() => browser.CallAsync("com.bank.accounts.admin").WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.NotAuthorized, admin.Uri);
        var register = await Assert.ThrowsAsync<WampException>(() =>
            browser.RegisterAsync("com.bank.balance2", static (inv, _) => ValueTask.FromResult(inv.Payload)).WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.NotAuthorized, register.Uri);
        var meta = await Assert.ThrowsAsync<WampException>(() => browser.CallAsync(WampUris.SessionList).WaitAsync(SocketClient.Bound));
        Assert.Equal(WampUris.NotAuthorized, meta.Uri);

        await using var ops = await SocketClient.JoinAsync(url, "bank", "ops");
        await ops.SendAsync("""[48, 1, {}, "wamp.session.count"]""");
        Assert.Equal("[3]", Encoding.UTF8.GetString((await ops.ReceiveAsync(WampMessageType.Result)).Payload.ArgumentsJson.Span));
    }

    [Fact]
    public void Crossbar_starred_uris_without_match_become_exact_prefix_and_wildcard_rules()
    {
        var config = WampRouterConfiguration.Parse(Config(
            """{"uri": "com.example.add"}, {"uri": "com.example.*", "allow": {"call": true}}, {"uri": "com.*.update.*"}, {"uri": "*"}"""));
        Assert.Equal(
            [("com.example.add", WampMatch.Exact), ("com.example.", WampMatch.Prefix), ("com..update.", WampMatch.Wildcard), ("", WampMatch.Prefix)],
            config.Realms[0].Roles[0].Permissions.Select(p => (p.Uri, p.Match)));
    }

    private const string AuthTransport = """
        {
            "type": "websocket",
            "endpoint": {"type": "tcp", "port": 8443, "tls": {"key": "server.key", "certificate": "server.crt"}},
            "auth": {
                "anonymous": {"type": "static", "role": "anonymous"},
                "ticket": {"type": "static", "principals": {"service": {"ticket": "s3cret-ticket", "role": "backend"}}},
                "wampcra": {"type": "static", "users": {
                    "alice": {"secret": "plain-secret", "role": "frontend"},
                    "bob": {"secret": "salted-secret", "role": "frontend", "salt": "salt123", "iterations": 100, "keylen": 32}}},
                "cryptosign": {"type": "static", "principals": {"device-1": {"realm": "bank", "role": "backend",
                    "authorized_keys": ["545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122"]}}}
            }
        }
        """;

    [Fact]
    public void Auth_tls_and_origin_sections_read_into_records_and_options()
    {
        var config = WampRouterConfiguration.Parse(Config(transport: AuthTransport), "auth.json", "/etc/router");
        var transport = config.Transport!;
        Assert.Equal(("websocket", "/", IPAddress.Any), (transport.Type, transport.Path, transport.Endpoint.Address));
        Assert.Equal(new WampTlsConfiguration("/etc/router/server.key", "/etc/router/server.crt"), transport.Endpoint.Tls);
        var auth = transport.Auth!;
        Assert.Equal(new WampAnonymousAuthConfiguration("anonymous", null, null), auth.Anonymous);
        Assert.Equal(new WampTicketPrincipalConfiguration("s3cret-ticket", "backend"), auth.Ticket!.Principals["service"]);
        Assert.Equal(new WampCraUserConfiguration("plain-secret", "frontend", null, null, null), auth.WampCra!.Users["alice"]);
        Assert.Equal(new WampCraUserConfiguration("salted-secret", "frontend", "salt123", 100, 32), auth.WampCra.Users["bob"]);
        var device = auth.Cryptosign!.Principals["device-1"];
        Assert.Equal(("bank", "backend"), (device.Realm, device.Role));
        Assert.Equal(["545efb0a2192db8d43f118e9bf9aee081466e1ef36c708b96ee6f62dddad9122"], device.AuthorizedKeys);
        // Secrets stay out of what a log would print.
        Assert.DoesNotContain("s3cret", auth.Ticket.Principals["service"].ToString());
        Assert.DoesNotContain("secret", auth.WampCra.Users["bob"].ToString().Replace("Salted", "", StringComparison.Ordinal));

        var options = config.ToOptions();
        Assert.Equal(("/etc/router/server.crt", "/etc/router/server.key"), (options.TlsCertificateFile, options.TlsKeyFile));

        var origins = WampRouterConfiguration.Parse(Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 80}, "options": {"allowed_origins": ["https://bank.example"], "allow_null_origin": true}}"""));
        Assert.Equal(["https://bank.example", "null"], origins.ToOptions().AllowedOrigins);
        var patterns = WampRouterConfiguration.Parse(Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 80}, "options": {"allowed_origins": ["https://*.bank.example"]}}"""));
        var e = Assert.Throws<WampConfigurationException>(() => patterns.ToOptions());
        Assert.Equal("$.workers[0].transports[0].options.allowed_origins", e.JsonPath);
    }

    [Fact]
    public async Task The_auth_section_is_served_each_principal_joining_with_its_role_and_wrong_secrets_refused()
    {
        string transport = AuthTransport.Replace("""
            , "tls": {"key": "server.key", "certificate": "server.crt"}
            """, """
            , "interface": "127.0.0.1"
            """, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", transport);
        var config = WampRouterConfiguration.Parse(Config(transport: transport, permissions: """{"uri": "com.bank.", "match": "prefix", "allow": {"call": true, "register": true}}"""));
        var options = config.ToOptions(port: 0);
        var realm = Assert.Single(options.RealmSettings!);
        Assert.Equal(["anonymous", "ticket", "wampcra", "cryptosign"], realm.Authentication!.Select(a => a.AuthMethod));
        await using var router = await WampRouter.StartAsync(options);
        var url = new Uri(router.Url!, "/ws");

        // The ticket principal joins as "backend", which has no rules in this file: it can do nothing.
        await using var service = await WampSession.ConnectAsync(url, "bank", new WampSessionOptions
        {
            Authentication = new WampAuthentication { AuthId = "service", Methods = [WampCredential.Ticket("s3cret-ticket")] },
        });
        Assert.Equal(("service", "backend", "ticket"), (service.AuthId, service.AuthRole, service.AuthMethod));
        var refused = await Assert.ThrowsAsync<WampException>(() => service.RegisterAsync("com.bank.balance", static (inv, ct) => ValueTask.FromResult(inv.Payload)));
        Assert.Equal(WampUris.NotAuthorized, refused.Uri);

        // Anonymous sessions get the anonymous role and its rules.
        await using var anonymous = await WampSession.ConnectAsync(url, "bank");
        Assert.Equal("anonymous", anonymous.AuthRole);
        await using var registration = await anonymous.RegisterAsync("com.bank.balance", static (inv, ct) => ValueTask.FromResult(inv.Payload));

        var wrong = await Assert.ThrowsAnyAsync<WampConnectionException>(() => WampSession.ConnectAsync(url, "bank", new WampSessionOptions
        {
            Authentication = new WampAuthentication { AuthId = "alice", Methods = [WampCredential.WampCra("not-her-secret")] },
        }));
        Assert.Equal(WampUris.NotAuthorized, wrong.Reason);
        await using var alice = await WampSession.ConnectAsync(url, "bank", new WampSessionOptions
        {
            Authentication = new WampAuthentication { AuthId = "alice", Methods = [WampCredential.WampCra("plain-secret")] },
        });
        Assert.Equal(("alice", "frontend"), (alice.AuthId, alice.AuthRole));
    }

    private const string DefaultPermission = """{"uri": "com.bank.", "match": "prefix", "allow": {"call": true}}""";
    private const string DefaultTransport = """{"type": "web", "endpoint": {"type": "tcp", "port": 8080}, "paths": {"ws": {"type": "websocket"}}}""";

    /// <summary>A configuration with one realm "bank", one role "anonymous" with <paramref name="permissions"/>, and <paramref name="transport"/>.</summary>
    private static string Config(string permissions = DefaultPermission, string transport = DefaultTransport, string role = "", string realm = "", string worker = "", string top = "") => $$"""
        {"version": 2, {{top}} "workers": [{"type": "router", {{worker}}
            "realms": [{"name": "bank", {{realm}} "roles": [{"name": "anonymous", {{role}} "permissions": [{{permissions}}]}]}],
            "transports": [{{transport}}]}]}
        """;

    private static string Transport(string webSocket) => $$$"""{"type": "web", "endpoint": {"type": "tcp", "port": 8080}, "paths": {"ws": {{{webSocket}}}}}""";

    private const string Permission0 = "$.workers[0].realms[0].roles[0].permissions[0]";
    private const string Transport0 = "$.workers[0].transports[0]";
    private const string WebSocket0 = "$.workers[0].transports[0].paths.ws";

    public static TheoryData<string, string, string> InvalidFiles => new()
    {
        { Config("""{"uri": "com.bank.", "match": "prefix", "allow": {"cal": true}}"""), Permission0 + ".allow.cal", "unknown setting 'cal' in allow" },
        { Config("""{"uri": "com.bank.", "match": "prefix", "allow": {"call": "yes"}}"""), Permission0 + ".allow.call", "expected true or false (line " },
        { Config("""{"uri": "com.bank.", "match": "regex"}"""), Permission0 + ".match", "'regex' is not a match policy" },
        { Config("""{"uri": "com..bank"}"""), Permission0 + ".uri", "'com..bank' is not a valid exact URI" },
        { Config("""{"allow": {"call": true}}"""), Permission0 + ".uri", "missing" },
        { Config("""{"uri": "com.bank.x", "validate": {"call": "int"}}"""), Permission0 + ".validate", "a Crossbar.io setting this router does not support" },
        { Config(DefaultPermission + ", " + DefaultPermission), "$.workers[0].realms[0].roles[0].permissions[1]", "has a permission for 'com.bank.' (match prefix) already" },
        { Config("""{"uri": "com.bank.a", "uri": "com.bank.b"}"""), Permission0 + ".uri", "the setting 'uri' appears twice" },
        { Config("""{"uri": "com.bank.a",}"""), Permission0, "invalid JSON" },
        { Config(role: "\"authorizer\": \"com.bank.authorize\","), "$.workers[0].realms[0].roles[0].authorizer", "WampRole.Authorizer" },
        { Config().Replace("\"name\": \"anonymous\"", "\"name\": \"trusted\"", StringComparison.Ordinal), "$.workers[0].realms[0].roles[0].name", "reserved" },
        { Config().Replace("\"name\": \"bank\"", "\"name\": \"my bank\"", StringComparison.Ordinal), "$.workers[0].realms[0].name", "not a valid realm name" },
        { Config(realm: "\"options\": {\"enable_meta_api\": true},"), "$.workers[0].realms[0].options", "a Crossbar.io setting this router does not support" },
        { Config().Replace("\"version\": 2", "\"version\": 1", StringComparison.Ordinal), "$.version", "version 1 is not supported" },
        { Config().Replace("\"version\": 2,", "", StringComparison.Ordinal), "$.version", "missing" },
        { Config(top: "\"extra\": 1,"), "$.extra", "unknown setting 'extra' at the top level" },
        { Config(top: "\"controller\": {\"id\": \"node1\"},"), "$.controller", "controller settings are not supported" },
        { Config().Replace("\"type\": \"router\"", "\"type\": \"container\"", StringComparison.Ordinal), "$.workers[0].type", "worker type 'container' is not supported" },
        { Config(worker: "\"components\": [],"), "$.workers[0].components", "a Crossbar.io setting this router does not support" },
        { Config(transport: DefaultTransport + ", " + DefaultTransport), "$.workers[0].transports[1]", "this router listens on one" },
        { Config(transport: """{"type": "longpoll", "endpoint": {"type": "tcp", "port": 8080}}"""), Transport0 + ".type", "transport type 'longpoll' is not supported" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 70000}}"""), Transport0 + ".endpoint.port", "70000 is not a TCP port" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": "8080"}}"""), Transport0 + ".endpoint.port", "expected a whole number" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "interface": "localhost"}}"""), Transport0 + ".endpoint.interface", "'localhost' is not an IP address" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "unix", "path": "/tmp/s"}}"""), Transport0 + ".endpoint.path", "unknown setting 'path'" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 8080, "backlog": 10}}"""), Transport0 + ".endpoint.backlog", "a Crossbar.io setting this router does not support" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 443, "tls": {"key": "k", "certificate": "c", "ciphers": "x"}}}"""), Transport0 + ".endpoint.tls.ciphers", "a Crossbar.io setting this router does not support" },
        { Config(transport: """{"type": "websocket", "endpoint": {"type": "tcp", "port": 443, "tls": {"key": "k"}}}"""), Transport0 + ".endpoint.tls.certificate", "missing" },
        { Config(transport: """{"type": "web", "endpoint": {"type": "tcp", "port": 8080}, "paths": {"/": {"type": "static", "directory": ".."}}}"""), Transport0 + ".paths['/'].type", "path service type 'static' is not supported" },
        { Config(transport: """{"type": "web", "endpoint": {"type": "tcp", "port": 8080}, "paths": {"/": {"type": "static"}, "ws": {"type": "websocket"}}}"""), Transport0 + ".paths", "serves one WebSocket and nothing else" },
        { Config(transport: Transport("""{"type": "websocket", "serializers": ["json", "ubjson"]}""")), WebSocket0 + ".serializers[1]", "serializer 'ubjson' is not supported" },
        { Config(transport: Transport("""{"type": "websocket", "options": {"auto_ping_interval": 10000}}""")), WebSocket0 + ".options.auto_ping_interval", "a Crossbar.io setting this router does not support" },
        { Config(transport: Transport("""{"type": "websocket", "auth": {"ticket": {"type": "dynamic", "authenticator": "com.bank.authenticate"}}}""")), WebSocket0 + ".auth.ticket.type", "ticket authentication of type 'dynamic' is not supported" },
        { Config(transport: Transport("""{"type": "websocket", "auth": {"ticket": {"type": "static", "principals": {"svc": {"role": "backend"}}}}}""")), WebSocket0 + ".auth.ticket.principals.svc.ticket", "missing" },
        { Config(transport: Transport("""{"type": "websocket", "auth": {"wampcra": {"type": "static", "users": {"alice": {"secret": "s", "keylen": 32}}}}}""")), WebSocket0 + ".auth.wampcra.users.alice.salt", "missing" },
        { Config(transport: Transport("""{"type": "websocket", "auth": {"cryptosign": {"type": "static", "principals": {"d": {"authorized_keys": ["abc"]}}}}}""")), WebSocket0 + ".auth.cryptosign.principals.d.authorized_keys[0]", "64 hexadecimal digits" },
        { Config(transport: Transport("""{"type": "websocket", "auth": {"scram": {"type": "static"}}}""")), WebSocket0 + ".auth.scram", "a Crossbar.io setting this router does not support" },
        { Config(transport: Transport("""{"type": "websocket", "auth": {"anonymous": {"type": "static", "role": "anonymous", "rol": "x"}}}""")), WebSocket0 + ".auth.anonymous.rol", "unknown setting 'rol'" },
        { "[]", "$", "expected an object" },
    };

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void An_invalid_file_is_refused_naming_the_json_path_of_the_setting(string json, string path, string problem)
    {
        var e = Assert.Throws<WampConfigurationException>(() => WampRouterConfiguration.Parse(json, "bad.json"));
        Assert.Equal(path, e.JsonPath);
        Assert.Contains(problem, e.Problem);
        Assert.StartsWith($"bad.json: {path}: ", e.Message);
    }

    [Fact]
    public void Every_invalid_file_is_valid_json_where_it_is_meant_to_be()
    {
        // The cases above fail for the reason they name, not for a typo in the test: each parses as JSON except the one about JSON itself.
        foreach (var row in InvalidFiles)
        {
            string json = (string)row[0];
            if ((string)row[2] is "invalid JSON" or "the setting 'uri' appears twice") continue;
            using var _ = JsonDocument.Parse(json);
        }
    }

    [Fact]
    public void A_missing_file_is_refused_naming_it()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "no-such-config.json");
        var e = Assert.Throws<WampConfigurationException>(() => WampRouterConfiguration.Load(path));
        Assert.Equal((path, "$"), (e.File, e.JsonPath));
        Assert.StartsWith("cannot read the file", e.Problem);
    }
}
