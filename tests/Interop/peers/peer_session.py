"""One Autobahn|Python (asyncio) session for the interop peers: connect (WebSocket, wss:// with an SSL context, or
RawSocket for rs:// URLs), join, run a scenario, leave, every wait bounded. Uses Debian's python3-autobahn."""
import asyncio
from urllib.parse import urlparse

from autobahn.asyncio.rawsocket import WampRawSocketClientFactory
from autobahn.asyncio.wamp import ApplicationSession
from autobahn.asyncio.websocket import WampWebSocketClientFactory
from autobahn.wamp.types import ComponentConfig


async def run_scenario(url, realm, scenario, seconds, serializer, ssl_context=None):
    """Joins REALM at URL and awaits scenario(session); fails if it fails, the transport closes first, or SECONDS pass."""
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    class Session(ApplicationSession):
        async def onJoin(self, details):
            try:
                await scenario(self)
                if not finished.done():
                    finished.set_result(None)
            except Exception as e:  # noqa: BLE001 - reported to the test
                if not finished.done():
                    finished.set_exception(e)
            finally:
                self.leave()

        def onDisconnect(self):
            if not finished.done():
                finished.set_exception(ConnectionError("the transport closed before the scenario finished"))

    parsed = urlparse(url)
    make = lambda: Session(ComponentConfig(realm))  # noqa: E731
    if parsed.scheme == "rs":
        factory = WampRawSocketClientFactory(make, serializer=serializer)
    else:
        factory = WampWebSocketClientFactory(make, url=url, serializers=[serializer])
    # With a context, the certificate and the host name (here an IP address) are verified, as for any wss:// client.
    secure = {"ssl": ssl_context, "server_hostname": parsed.hostname} if ssl_context else {}
    transport, _ = await asyncio.wait_for(loop.create_connection(factory, parsed.hostname, parsed.port, **secure), 5)
    try:
        await asyncio.wait_for(finished, seconds)
    finally:
        await asyncio.sleep(0.1)  # let GOODBYE go out
        transport.close()
