using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WampContracts.Router;
using WampContracts.Testing;

namespace WampContracts.EndToEnd.Tests;

/// <summary>
/// Our client and router over <c>wss://</c> on loopback, with a self-signed certificate the test makes: pinned,
/// refused by default with an error that names the certificate, accepted by a validation callback.
/// </summary>
public sealed class TlsTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly X509Certificate2 _certificate = TestCertificates.Server();
    private WampRouter _router = null!;

    public async Task InitializeAsync() => _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificate = _certificate });

    public async Task DisposeAsync()
    {
        await _router.DisposeAsync();
        _certificate.Dispose();
    }

    private Task<WampSession> ConnectAsync(WampWebSocketOptions webSocket) =>
        WampSession.ConnectAsync(_router.Url!, "realm1", new WampSessionOptions { WebSocket = webSocket }).WaitAsync(Bound);

    /// <summary>A round trip through the router: the session really works over the encrypted connection.</summary>
    private static async Task AssertCallsWorkAsync(WampSession session)
    {
        await using var registration = await session.RegisterAsync("com.example.tls.echo", (inv, ct) => ValueTask.FromResult(inv.Payload));
        var result = await session.CallAsync("com.example.tls.echo", WampPayload.FromArgs("over TLS")).WaitAsync(Bound);
        Assert.Equal("over TLS", result.Payload.GetArgument<string>(0));
    }

    [Fact]
    public void A_router_with_a_certificate_serves_wss()
    {
        Assert.Equal("wss", _router.Url!.Scheme);
        Assert.Equal("127.0.0.1", _router.Url.Host);
    }

    [Fact]
    public async Task A_client_with_the_certificate_pinned_joins()
    {
        await using var session = await ConnectAsync(new WampWebSocketOptions { PinnedCertificates = [WampWebSocketOptions.CertificatePin(_certificate)] });
        await AssertCallsWorkAsync(session);
    }

    [Fact]
    public async Task A_certificate_pin_may_be_written_as_openssl_prints_it()
    {
        // openssl x509 -noout -fingerprint -sha256: upper-case pairs separated by colons; lower case is accepted too.
        string hex = WampWebSocketOptions.CertificatePin(_certificate);
        string openssl = string.Join(':', Enumerable.Range(0, hex.Length / 2).Select(i => hex.Substring(i * 2, 2))).ToLowerInvariant();
        await using var session = await ConnectAsync(new WampWebSocketOptions { PinnedCertificates = [openssl] });
        Assert.True(session.IsConnected);
    }

    [Fact]
    public async Task A_client_with_the_public_key_pinned_joins()
    {
        await using var session = await ConnectAsync(new WampWebSocketOptions { PinnedPublicKeys = [WampWebSocketOptions.PublicKeyPin(_certificate)] });
        await AssertCallsWorkAsync(session);
    }

    [Fact]
    public async Task By_default_an_untrusted_certificate_is_refused_with_an_error_that_names_it()
    {
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => ConnectAsync(WampWebSocketOptions.Default));
        Assert.Equal(WampConnectionException.TransportLost, e.Reason);
        // Not just "Unable to connect to the remote server": which certificate, what is wrong with it, and how to fix it.
        Assert.Contains("is not trusted", e.Message);
        Assert.Contains("RemoteCertificateChainErrors", e.Message);
        Assert.Contains("UntrustedRoot", e.Message);
        Assert.Contains("CN=WampContracts test router", e.Message);
        Assert.Contains(WampWebSocketOptions.CertificatePin(_certificate), e.Message);
        Assert.Contains("PinnedCertificates", e.Message);
        Assert.Equal(0, _router.SessionCount);
    }

    [Fact]
    public async Task A_certificate_that_matches_no_pin_is_refused_with_an_error_that_says_pinning_failed()
    {
        using var other = TestCertificates.Server("another router");
        var e = await Assert.ThrowsAsync<WampConnectionException>(() =>
            ConnectAsync(new WampWebSocketOptions { PinnedCertificates = [WampWebSocketOptions.CertificatePin(other)], PinnedPublicKeys = [WampWebSocketOptions.PublicKeyPin(other)] }));
        Assert.Contains("certificate pinning failed", e.Message);
        Assert.Contains("matches none of the 1 pinned certificate(s) and 1 pinned public key(s)", e.Message);
        Assert.Contains(WampWebSocketOptions.CertificatePin(_certificate), e.Message);
        Assert.Contains(WampWebSocketOptions.PublicKeyPin(_certificate), e.Message);
        Assert.Equal(0, _router.SessionCount);
    }

    [Fact]
    public async Task A_validation_callback_decides_and_sees_what_the_system_found()
    {
        SslPolicyErrors seen = SslPolicyErrors.None;
        string? seenThumbprint = null;
        await using (var session = await ConnectAsync(new WampWebSocketOptions
        {
            ServerCertificateValidation = (certificate, chain, errors) =>
            {
                seen = errors;
                seenThumbprint = certificate.Thumbprint;
                return certificate.Thumbprint == _certificate.Thumbprint;
            },
        }))
        {
            await AssertCallsWorkAsync(session);
        }
        Assert.Equal(_certificate.Thumbprint, seenThumbprint);
        Assert.True(seen.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors), $"errors: {seen}");

        var e = await Assert.ThrowsAsync<WampConnectionException>(() => ConnectAsync(new WampWebSocketOptions { ServerCertificateValidation = (_, _, _) => false }));
        Assert.Contains("ServerCertificateValidation refused the router's certificate", e.Message);
        Assert.Contains("RemoteCertificateChainErrors", e.Message);
    }

    [Fact]
    public async Task A_validation_callback_that_throws_refuses_the_certificate_and_its_error_is_named()
    {
        var e = await Assert.ThrowsAsync<WampConnectionException>(() =>
            ConnectAsync(new WampWebSocketOptions { ServerCertificateValidation = (_, _, _) => throw new InvalidOperationException("revocation list unavailable") }));
        Assert.Contains("ServerCertificateValidation threw InvalidOperationException", e.Message);
        Assert.Contains("revocation list unavailable", e.Message);
    }

    [Fact]
    public async Task A_name_mismatch_is_named_and_a_pin_does_not_need_the_name()
    {
        // A certificate for another host name only, served on 127.0.0.1.
        using var elsewhere = TestCertificates.Server("router.example", dnsNames: ["router.example"], loopback: false);
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificate = elsewhere });
        var e = await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(router.Url!, "realm1").WaitAsync(Bound));
        Assert.Contains("RemoteCertificateNameMismatch (it is not issued for '127.0.0.1')", e.Message);
        Assert.Contains("RemoteCertificateChainErrors", e.Message);

        await using var session = await WampSession.ConnectAsync(router.Url!, "realm1",
            new WampSessionOptions { WebSocket = new() { PinnedPublicKeys = [WampWebSocketOptions.PublicKeyPin(elsewhere)] } }).WaitAsync(Bound);
        Assert.True(session.IsConnected);
    }

    [Fact]
    public async Task Tls_settings_for_a_plain_ws_url_are_refused()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            WampSession.ConnectAsync(new Uri("ws://127.0.0.1:1/"), "realm1", new WampSessionOptions { WebSocket = new() { PinnedCertificates = [WampWebSocketOptions.CertificatePin(_certificate)] } }));
        Assert.Contains("not encrypted", e.Message);
    }

    [Theory]
    [InlineData("AB:CD")]
    [InlineData("not a fingerprint at all, but sixty-four characters long, honestly!")]
    public async Task A_malformed_certificate_pin_is_refused_before_connecting(string pin)
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ConnectAsync(new WampWebSocketOptions { PinnedCertificates = [pin] }));
        Assert.Contains(pin, e.Message);
    }

    [Fact]
    public async Task A_malformed_public_key_pin_is_refused_before_connecting()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => ConnectAsync(new WampWebSocketOptions { PinnedPublicKeys = ["sha256/tooshort"] }));
        Assert.Contains("sha256/tooshort", e.Message);
    }

    [Fact]
    public async Task The_client_certificate_is_presented_to_a_router_that_asks_for_one()
    {
        // Mutual TLS is the host's business: a router mounted in an ASP.NET Core app that requires client certificates.
        using var clientCertificate = TestCertificates.Client();
        await using var router = WampRouter.CreateInMemory();
        string? presented = null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = _certificate,
            ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (certificate, _, _) => certificate.Thumbprint == clientCertificate.Thumbprint,
        })));
        await using var app = builder.Build();
        app.UseWebSockets();
        app.Run(context =>
        {
            presented = context.Connection.ClientCertificate?.Thumbprint;
            return router.HandleAsync(context);
        });
        await app.StartAsync();
        var port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        var url = new Uri($"wss://127.0.0.1:{port}/");
        var pinned = new WampWebSocketOptions { PinnedCertificates = [WampWebSocketOptions.CertificatePin(_certificate)] };

        // Without a client certificate the TLS handshake fails.
        await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(url, "realm1", new WampSessionOptions { WebSocket = pinned }).WaitAsync(Bound));
        Assert.Null(presented);

        await using var session = await WampSession.ConnectAsync(url, "realm1",
            new WampSessionOptions { WebSocket = new WampWebSocketOptions { PinnedCertificates = pinned.PinnedCertificates, ClientCertificate = clientCertificate } }).WaitAsync(Bound);
        Assert.Equal(clientCertificate.Thumbprint, presented);
        await AssertCallsWorkAsync(session);
    }

    [Fact]
    public async Task The_standalone_router_serves_wss_with_the_pem_files_of_its_flags()
    {
        var (certificateFile, keyFile, dir) = TestCertificates.WritePem(_certificate);
        try
        {
            string dll = RouterTool.Dll;
            await using var process = PeerProcess.Start("dotnet", [dll, "--port", "0", "--tls-cert", certificateFile, "--tls-key", keyFile], TimeSpan.FromMinutes(2));
            string line = await process.WaitForLineAsync("listening on ", Bound);
            var url = new Uri(line.Split(' ').First(w => w.StartsWith("wss://", StringComparison.Ordinal)));
            // It prints the certificate's fingerprint, ready to be pinned.
            string printed = await process.WaitForLineAsync("TLS certificate ", Bound);
            Assert.Contains(WampWebSocketOptions.CertificatePin(_certificate), printed);

            await using var session = await WampSession.ConnectAsync(url, "realm1",
                new WampSessionOptions { WebSocket = new() { PinnedCertificates = [WampWebSocketOptions.CertificatePin(_certificate)] } }).WaitAsync(Bound);
            await AssertCallsWorkAsync(session);
            var refused = await Assert.ThrowsAsync<WampConnectionException>(() => WampSession.ConnectAsync(url, "realm1").WaitAsync(Bound));
            Assert.Contains("UntrustedRoot", refused.Message);

            process.Terminate();
            Assert.Equal(0, await process.WaitForExitAsync(Bound));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_standalone_router_refuses_a_missing_certificate_file_with_exit_code_2()
    {
        string dll = RouterTool.Dll;
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-dir-{Guid.NewGuid():N}", "server.crt");
        await using var process = PeerProcess.Start("dotnet", [dll, "--port", "0", "--tls-cert", missing], Bound);
        Assert.Equal(2, await process.WaitForExitAsync(Bound));
        Assert.Contains($"Cannot load the TLS certificate '{missing}'", process.Log);
        Assert.DoesNotContain("listening on", process.Log);
    }
}
