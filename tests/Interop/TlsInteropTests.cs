using System.Security.Cryptography.X509Certificates;
using WampContracts.Router;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>
/// Autobahn|Python over <c>wss://</c> to our router, which serves a self-signed certificate made by the test: with the
/// certificate as its CA file it verifies and joins; with the system's trust store it refuses the certificate. The router
/// is set up as for production, with browser origins restricted: a client that sends no Origin header is still served.
/// </summary>
public sealed class TlsInteropTests : IAsyncLifetime
{
    private readonly X509Certificate2 _certificate = TestCertificates.Server();
    private WampRouter _router = null!;
    private WampSession _callee = null!;
    private string _caFile = null!, _dir = null!;

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificate = _certificate, AllowedOrigins = ["https://app.example.com"] });
        (_caFile, _, _dir) = TestCertificates.WritePem(_certificate);
        // Our own client is the callee, over the same wss:// endpoint, with the certificate pinned.
        _callee = await WampSession.ConnectAsync(_router.Url!, "realm1",
            new WampSessionOptions { WebSocket = new() { PinnedCertificates = [WampWebSocketOptions.CertificatePin(_certificate)] } }).WaitAsync(Peers.Bound);
        await _callee.RegisterAsync("com.example.tls.echo", (inv, ct) => ValueTask.FromResult(inv.Payload));
    }

    public async Task DisposeAsync()
    {
        await _callee.DisposeAsync();
        await _router.DisposeAsync();
        _certificate.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private PeerProcess StartPython(params string[] args) =>
        PeerProcess.Start("/usr/bin/python3", ["tls_caller.py", "--url", _router.Url!.ToString(), .. args], TimeSpan.FromSeconds(40), Peers.Directory);

    [Fact]
    public async Task Autobahn_python_verifies_the_routers_certificate_and_calls_over_wss()
    {
        Assert.Equal("wss", _router.Url!.Scheme);
        await using var python = StartPython("--cafile", _caFile, "com.example.tls.echo", "hello over TLS");
        int exit = await python.WaitForExitAsync(Peers.Bound);
        Assert.True(exit == 0 && python.Log.Contains("DONE"), $"tls_caller.py failed (exit {exit}):\n{python.Log}");
        var line = Peers.ParseLines(python.Log).Single();
        Assert.Equal("hello over TLS", line.Field("result").GetString());
        Assert.StartsWith("TLSv1.", line.Field("tls").GetString());
    }

    [Fact]
    public async Task Autobahn_python_refuses_the_self_signed_certificate_with_the_system_trust_store()
    {
        await using var python = StartPython("com.example.tls.echo", "never sent");
        int exit = await python.WaitForExitAsync(Peers.Bound);
        Assert.Equal(1, exit);
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", python.Log);
        Assert.Equal(1, _router.SessionCount); // only our callee
    }
}
