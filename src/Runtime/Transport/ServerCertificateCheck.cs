using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WampContracts.Transport;

/// <summary>
/// Checks one connection's server certificate by the rules of <see cref="WampWebSocketOptions"/> and remembers why it
/// refused one: the TLS stack only reports "the remote certificate is invalid" (and ClientWebSocket only "Unable to
/// connect to the remote server"), so the reason is kept here to be named in the connection's error.
/// </summary>
internal sealed class ServerCertificateCheck
{
    private readonly string _host;
    private readonly List<byte[]> _certificatePins;
    private readonly List<byte[]> _publicKeyPins;
    private readonly Func<X509Certificate2, X509Chain?, SslPolicyErrors, bool>? _validate;
    private volatile string? _failure;

    /// <exception cref="ArgumentException">A pin is malformed.</exception>
    public ServerCertificateCheck(string host, WampWebSocketOptions options)
    {
        _host = host;
        _certificatePins = WampWebSocketOptions.ParseCertificatePins(options.PinnedCertificates);
        _publicKeyPins = WampWebSocketOptions.ParsePublicKeyPins(options.PinnedPublicKeys);
        _validate = options.ServerCertificateValidation;
    }

    private bool Pinned => _certificatePins.Count + _publicKeyPins.Count > 0;

    /// <summary>Why the last certificate was refused; null if none was.</summary>
    public string? Failure => _failure;

    /// <summary>A <see cref="RemoteCertificateValidationCallback"/>; called by the TLS handshake, at most once per connection.</summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            _failure = $"the router presented no TLS certificate ({errors})";
            return false;
        }
        var presented = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (Pinned && !MatchesAPin(presented))
        {
            _failure = $"certificate pinning failed: the router's certificate {WampWebSocketOptions.Describe(presented)} matches none of the " +
                $"{_certificatePins.Count} pinned certificate(s) and {_publicKeyPins.Count} pinned public key(s) " +
                $"(its public-key pin is {WampWebSocketOptions.PublicKeyPin(presented)}); the system's verdict was: {Explain(errors, chain)}";
            return false;
        }
        if (_validate is not null)
        {
            bool accepted;
            try
            {
                accepted = _validate(presented, chain, errors);
            }
            catch (Exception e)
            {
                _failure = $"ServerCertificateValidation threw {e.GetType().Name} for the router's certificate {WampWebSocketOptions.Describe(presented)}: {e.Message}";
                return false;
            }
            if (!accepted)
                _failure = $"ServerCertificateValidation refused the router's certificate {WampWebSocketOptions.Describe(presented)}; the system's verdict was: {Explain(errors, chain)}";
            return accepted;
        }
        if (Pinned || errors == SslPolicyErrors.None) return true;
        _failure = $"the router's certificate {WampWebSocketOptions.Describe(presented)} is not trusted: {Explain(errors, chain)}. " +
            "Trust its issuer, pin it (WampWebSocketOptions.PinnedCertificates or PinnedPublicKeys) or decide with WampWebSocketOptions.ServerCertificateValidation";
        return false;
    }

    private bool MatchesAPin(X509Certificate2 certificate)
    {
        if (_certificatePins.Count > 0)
        {
            byte[] hash = certificate.GetCertHash(HashAlgorithmName.SHA256);
            foreach (var pin in _certificatePins)
                if (CryptographicOperations.FixedTimeEquals(pin, hash)) return true;
        }
        if (_publicKeyPins.Count > 0)
        {
            byte[] hash = SHA256.HashData(certificate.PublicKey.ExportSubjectPublicKeyInfo());
            foreach (var pin in _publicKeyPins)
                if (CryptographicOperations.FixedTimeEquals(pin, hash)) return true;
        }
        return false;
    }

    /// <summary>The policy errors by name, with the chain's status and the host asked for: "RemoteCertificateChainErrors (UntrustedRoot: ...)".</summary>
    private string Explain(SslPolicyErrors errors, X509Chain? chain)
    {
        if (errors == SslPolicyErrors.None) return "trusted (SslPolicyErrors.None)";
        var parts = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            parts.Add("RemoteCertificateNotAvailable");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
            parts.Add($"RemoteCertificateNameMismatch (it is not issued for '{_host}')");
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var statuses = (chain?.ChainStatus ?? [])
                .Where(s => s.Status != X509ChainStatusFlags.NoError)
                .Select(s => string.IsNullOrWhiteSpace(s.StatusInformation) ? s.Status.ToString() : $"{s.Status}: {s.StatusInformation.Trim()}")
                .Distinct()
                .ToList();
            parts.Add(statuses.Count > 0 ? $"RemoteCertificateChainErrors ({string.Join("; ", statuses)})" : "RemoteCertificateChainErrors");
        }
        return string.Join(", ", parts);
    }
}
