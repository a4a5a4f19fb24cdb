using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WampContracts.Testing;

/// <summary>Self-signed certificates made by the test itself (no file from outside): ECDSA P-256, valid for a day.</summary>
public static class TestCertificates
{
    /// <summary>A server certificate, with its private key, for 127.0.0.1 and localhost (with <paramref name="loopback"/>) and <paramref name="dnsNames"/>.</summary>
    public static X509Certificate2 Server(string commonName = "WampContracts test router", string[]? dnsNames = null, bool loopback = true)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        if (loopback)
        {
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
        }
        foreach (string name in dnsNames ?? []) names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // serverAuth
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A client certificate (for mutual TLS), with its private key.</summary>
    public static X509Certificate2 Client(string commonName = "WampContracts test client")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={commonName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false)); // clientAuth
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>Writes <paramref name="certificate"/> and its private key as PEM files in a new temporary directory.</summary>
    public static (string CertificateFile, string KeyFile, string Directory) WritePem(X509Certificate2 certificate)
    {
        string dir = Directory.CreateTempSubdirectory("wampcontracts-tls-").FullName;
        string certFile = Path.Combine(dir, "server.crt"), keyFile = Path.Combine(dir, "server.key");
        File.WriteAllText(certFile, certificate.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("the certificate has no ECDSA private key");
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certFile, keyFile, dir);
    }
}
