using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WampContracts;
using WampContracts.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>WampContracts in the Generic Host: a hosted session, typed proxies and publishers, callees and subscribers from DI.</summary>
public static class WampServiceCollectionExtensions
{
    /// <summary>
    /// Adds the hosted WAMP session, its settings bound from the configuration section <c>Wamp</c> (router URL, realm,
    /// timeouts, retry, reconnect; see docs/hosting.md) and then <paramref name="configure"/>, checked when the host starts.
    /// </summary>
    public static IServiceCollection AddWamp(this IServiceCollection services, Action<WampClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<WampClientOptions>().BindConfiguration(WampClientOptions.SectionName);
        if (configure is not null) options.Configure(configure);
        return services.AddWampCore();
    }

    /// <summary>Adds the hosted WAMP session with its settings bound from <paramref name="section"/> (then <paramref name="configure"/>).</summary>
    public static IServiceCollection AddWamp(this IServiceCollection services, IConfiguration section, Action<WampClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        var options = services.AddOptions<WampClientOptions>().Bind(section);
        if (configure is not null) options.Configure(configure);
        return services.AddWampCore();
    }

    /// <summary>Sets what configuration cannot carry: JSON metadata, authentication, WebSocket and TLS settings, the idempotency store.</summary>
    public static IServiceCollection ConfigureWampSession(this IServiceCollection services, Action<WampSessionSetup> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        return services;
    }

    /// <summary>
    /// Adds <typeparamref name="TInterceptor"/> (a singleton) to the hosted session's call interceptors if it is an
    /// <see cref="IWampCallInterceptor"/>, and to its invocation interceptors if it is an
    /// <see cref="IWampInvocationInterceptor"/>; interceptors run in the order they were added (see docs/policies.md).
    /// </summary>
    public static IServiceCollection AddWampInterceptor<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TInterceptor>(this IServiceCollection services)
        where TInterceptor : class
    {
        ArgumentNullException.ThrowIfNull(services);
        bool call = typeof(IWampCallInterceptor).IsAssignableFrom(typeof(TInterceptor));
        bool invocation = typeof(IWampInvocationInterceptor).IsAssignableFrom(typeof(TInterceptor));
        if (!call && !invocation)
            throw new ArgumentException($"{typeof(TInterceptor)} is neither an {nameof(IWampCallInterceptor)} nor an {nameof(IWampInvocationInterceptor)}.", nameof(TInterceptor));
        services.AddWampCore();
        services.TryAddSingleton<TInterceptor>();
        if (call) services.AddSingleton(sp => (IWampCallInterceptor)sp.GetRequiredService<TInterceptor>());
        if (invocation) services.AddSingleton(sp => (IWampInvocationInterceptor)sp.GetRequiredService<TInterceptor>());
        return services;
    }

    /// <summary>
    /// Injects <typeparamref name="TService"/> (a <c>[WampService]</c> interface) as a singleton caller proxy on the
    /// hosted session. A call made before the session has joined waits for it within the call's own time limit.
    /// </summary>
    public static IServiceCollection AddWampProxy<TService>(this IServiceCollection services) where TService : class
    {
        services.AddWampCore();
        services.TryAddSingleton(sp => sp.GetRequiredService<WampHostedSession>().Session.GetProxy<TService>());
        return services;
    }

    /// <summary>
    /// Injects <typeparamref name="TEvents"/> (a <c>[WampEvents]</c> interface) as a singleton publisher on the hosted
    /// session. A publish made before the session has joined waits for it, at most <see cref="WampClientOptions.OperationTimeout"/>.
    /// </summary>
    public static IServiceCollection AddWampPublisher<TEvents>(this IServiceCollection services) where TEvents : class
    {
        services.AddWampCore();
        services.TryAddSingleton(sp => sp.GetRequiredService<WampHostedSession>().Session.GetPublisher<TEvents>());
        return services;
    }

    /// <summary>
    /// Registers the procedures of <typeparamref name="TService"/> when the session has joined; each invocation
    /// runs on a <typeparamref name="TImplementation"/> resolved from a DI scope of its own, disposed when it has
    /// answered. <typeparamref name="TImplementation"/> is added as a scoped service unless already registered.
    /// </summary>
    public static IServiceCollection AddWampCallee<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(this IServiceCollection services)
        where TService : class
        where TImplementation : class, TService
    {
        services.AddWampCore();
        services.TryAddScoped<TImplementation>();
        services.AddSingleton(new WampAttachment(typeof(TService), static (session, provider, ct) =>
            WampContractTargets.AttachScopedAsync<TService>(session, ScopeFactory<TImplementation>(provider), events: false, ct)));
        return services;
    }

    /// <summary>
    /// Subscribes the topics of <typeparamref name="TEvents"/> when the session has joined; each event runs on a
    /// <typeparamref name="THandler"/> resolved from a DI scope of its own. <typeparamref name="THandler"/> is added
    /// as a scoped service unless already registered.
    /// </summary>
    public static IServiceCollection AddWampSubscriber<TEvents, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IServiceCollection services)
        where TEvents : class
        where THandler : class, TEvents
    {
        services.AddWampCore();
        services.TryAddScoped<THandler>();
        services.AddSingleton(new WampAttachment(typeof(TEvents), static (session, provider, ct) =>
            WampContractTargets.AttachScopedAsync<TEvents>(session, ScopeFactory<THandler>(provider), events: true, ct)));
        return services;
    }

    /// <summary>Adds a health check (default name <c>wamp</c>) that reports the hosted session's state.</summary>
    public static IHealthChecksBuilder AddWampHealthCheck(this IHealthChecksBuilder builder, string name = "wamp",
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddWampCore();
        return builder.Add(new HealthCheckRegistration(name, sp => new WampHealthCheck(sp.GetRequiredService<WampHostedSession>()), failureStatus, tags));
    }

    private static Func<WampContractTargets.ITargetScope> ScopeFactory<T>(IServiceProvider provider) where T : class
    {
        var scopes = provider.GetRequiredService<IServiceScopeFactory>();
        return () =>
        {
            var scope = scopes.CreateAsyncScope();
            try
            {
                return new ScopedTarget(scope, scope.ServiceProvider.GetRequiredService<T>());
            }
            catch
            {
                scope.Dispose();
                throw;
            }
        };
    }

    private static IServiceCollection AddWampCore(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<WampClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WampClientOptions>, WampClientOptionsValidator>());
        services.TryAddSingleton<WampHostedSession>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, WampHostedService>());
        return services;
    }
}
