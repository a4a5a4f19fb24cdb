using System.Security.Cryptography.X509Certificates;
using WampContracts.Testing;

namespace WampContracts.Router.Tests;

/// <summary>The router's TLS settings: contradictions and unusable certificates are refused at start, naming what is wrong.</summary>
public sealed class TlsOptionsTests
{
    [Fact]
    public async Task A_certificate_without_its_private_key_is_refused()
    {
        using var full = TestCertificates.Server();
        using var publicOnly = X509CertificateLoader.LoadCertificate(full.Export(X509ContentType.Cert));
        var e = await Assert.ThrowsAsync<ArgumentException>(() => WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificate = publicOnly }));
        Assert.Contains("has no private key", e.Message);
    }

    [Fact]
    public async Task A_certificate_object_and_files_together_are_refused()
    {
        using var certificate = TestCertificates.Server();
        var e = await Assert.ThrowsAsync<ArgumentException>(() =>
            WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificate = certificate, TlsCertificateFile = "server.crt" }));
        Assert.Contains("not both", e.Message);
    }

    [Fact]
    public async Task A_key_file_without_a_certificate_file_is_refused()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsKeyFile = "server.key" }));
        Assert.Contains("TlsKeyFile is set without TlsCertificateFile", e.Message);
    }

    [Fact]
    public async Task A_missing_or_mismatched_pem_file_is_refused_naming_the_files()
    {
        using var certificate = TestCertificates.Server();
        using var other = TestCertificates.Server("other");
        var (certFile, _, dir) = TestCertificates.WritePem(certificate);
        var (_, otherKey, otherDir) = TestCertificates.WritePem(other);
        try
        {
            string missing = Path.Combine(dir, "missing.crt");
            var e = await Assert.ThrowsAsync<ArgumentException>(() => WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificateFile = missing }));
            Assert.Contains($"Cannot load the TLS certificate '{missing}'", e.Message);

            e = await Assert.ThrowsAsync<ArgumentException>(() => WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificateFile = certFile, TlsKeyFile = otherKey }));
            Assert.Contains($"Cannot load the TLS certificate '{certFile}' with the key in '{otherKey}'", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(otherDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_pem_file_with_more_certificates_serves_the_first_with_its_key()
    {
        using var certificate = TestCertificates.Server();
        using var intermediate = TestCertificates.Server("an intermediate");
        var (certFile, keyFile, dir) = TestCertificates.WritePem(certificate);
        try
        {
            File.AppendAllText(certFile, intermediate.ExportCertificatePem());
            await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0, TlsCertificateFile = certFile, TlsKeyFile = keyFile });
            Assert.Equal("wss", router.Url!.Scheme);
            Assert.Equal(certificate.Thumbprint, router.Certificate!.Thumbprint);
            Assert.True(router.Certificate.HasPrivateKey);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
