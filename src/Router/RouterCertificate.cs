using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WampContracts.Router;

/// <summary>
/// The certificate a router serves <c>wss://</c> with: <see cref="WampRouterOptions.TlsCertificate"/>, or loaded from
/// <see cref="WampRouterOptions.TlsCertificateFile"/> and <see cref="WampRouterOptions.TlsKeyFile"/> (PEM), in which
/// case the router owns it and disposes of it when it stops.
/// </summary>
internal sealed class RouterCertificate : IDisposable
{
    private readonly bool _owned;

    private RouterCertificate(X509Certificate2 certificate, X509Certificate2Collection? chain, bool owned)
    {
        Certificate = certificate;
        Chain = chain;
        _owned = owned;
    }

    public X509Certificate2 Certificate { get; }

    /// <summary>Intermediate certificates that followed the server's own in the PEM file, sent with it in the handshake.</summary>
    public X509Certificate2Collection? Chain { get; }

    /// <summary>The certificate <paramref name="options"/> ask for, or null for plain <c>ws://</c>.</summary>
    /// <exception cref="ArgumentException">The TLS settings contradict each other, a file is missing or unreadable, or the certificate has no private key.</exception>
    public static RouterCertificate? From(WampRouterOptions options)
    {
        if (options.TlsCertificate is { } given)
        {
            if (options.TlsCertificateFile is not null || options.TlsKeyFile is not null)
                throw new ArgumentException("Set either TlsCertificate or TlsCertificateFile (and TlsKeyFile), not both.", nameof(options));
            if (!given.HasPrivateKey)
                throw new ArgumentException($"TlsCertificate '{given.Subject}' has no private key: the router cannot serve TLS with it.", nameof(options));
            return new RouterCertificate(given, null, owned: false);
        }
        if (options.TlsCertificateFile is null)
        {
            if (options.TlsKeyFile is not null)
                throw new ArgumentException("TlsKeyFile is set without TlsCertificateFile.", nameof(options));
            return null;
        }
        return Load(options.TlsCertificateFile, options.TlsKeyFile);
    }

    private static RouterCertificate Load(string certificateFile, string? keyFile)
    {
        string what = keyFile is null ? $"'{certificateFile}'" : $"'{certificateFile}' with the key in '{keyFile}'";
        X509Certificate2 certificate;
        var chain = new X509Certificate2Collection();
        try
        {
            // The first certificate in the file is the server's; any that follow are its chain (as in nginx's and Crossbar.io's files).
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
            chain.ImportFromPemFile(certificateFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ArgumentException($"Cannot load the TLS certificate {what} (PEM, unencrypted key): {e.Message}", e);
        }
        if (OperatingSystem.IsWindows())
        {
            // SChannel cannot use the ephemeral key of a PEM-loaded certificate; a PKCS#12 round trip gives it a usable one.
            using var ephemeral = certificate;
            certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        var leaf = chain[0];
        chain.RemoveAt(0);
        leaf.Dispose();
        return new RouterCertificate(certificate, chain.Count > 0 ? chain : null, owned: true);
    }

    public void Dispose()
    {
        if (!_owned) return;
        Certificate.Dispose();
        if (Chain is not null)
            foreach (var c in Chain) c.Dispose();
    }
}
