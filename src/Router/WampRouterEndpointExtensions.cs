using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WampContracts.Router;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Serves a WAMP router at an endpoint of an existing ASP.NET Core application.</summary>
public static class WampRouterEndpointExtensions
{
    /// <summary>
    /// Serves a new router (dealer and broker) at <paramref name="pattern"/>, e.g. <c>app.MapWampRouter("/ws")</c>:
    /// WebSocket requests with the subprotocol <c>wamp.2.json</c> become sessions, other requests get a short
    /// explanation. The application's Kestrel listens; <see cref="WampRouterOptions.Address"/>, <see cref="WampRouterOptions.Port"/>
    /// and the TLS settings do not apply (configure them on the application). When the application stops, the router
    /// says GOODBYE (<c>wamp.close.system_shutdown</c>) to every session.
    /// </summary>
    /// <exception cref="ArgumentException"><see cref="WampRouterOptions.AllowedOrigins"/> or the keepalive settings are invalid.</exception>
    [SuppressMessage("ApiDesign", "RS0027", Justification = "The two overloads differ in the type of their last parameter (options or a router), as MapHub's do; MapWampRouter(\"/ws\") stays the short form.")]
    public static IEndpointConventionBuilder MapWampRouter(this IEndpointRouteBuilder endpoints, string pattern, WampRouterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var router = WampRouter.CreateInMemory(options);
        var lifetime = endpoints.ServiceProvider.GetService<IHostApplicationLifetime>();
        // Before the server stops waiting for requests: the sessions' WebSocket requests end with the GOODBYE.
        lifetime?.ApplicationStopping.Register(() => router.DisposeAsync().AsTask().GetAwaiter().GetResult());
        return endpoints.MapWampRouter(pattern, router);
    }

    /// <summary>
    /// Serves <paramref name="router"/> (made with <see cref="WampRouter.CreateInMemory"/>, so that the application
    /// can reach it, e.g. for <see cref="WampRouter.SessionCount"/>) at <paramref name="pattern"/>. The caller disposes it.
    /// </summary>
    public static IEndpointConventionBuilder MapWampRouter(this IEndpointRouteBuilder endpoints, string pattern, WampRouter router)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(router);
        // Its own small pipeline, as SignalR's MapHub has: WebSockets are accepted here whatever the application's pipeline says.
        var pipeline = endpoints.CreateApplicationBuilder();
        pipeline.UseWebSockets();
        pipeline.Run(router.HandleAsync);
        return endpoints.Map(pattern, pipeline.Build()).WithDisplayName("WAMP router " + pattern);
    }
}
