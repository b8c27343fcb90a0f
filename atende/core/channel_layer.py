"""The channel layer of one machine without Redis: in memory in the web process, reachable from the machine's
other processes (the events worker, the scheduler, commands) over a unix socket.

The web process holds every websocket connection, so it holds every group membership: it is the *hub*. It becomes
the hub the first time a consumer asks for a channel name (``new_channel``, which every consumer does as it
starts), and from then on it also listens on ``path`` (``<ATENDE_VAR_DIR>/run/channels.sock``; mode 0600, in a
0700 directory, so only the same user's processes can push). Any other process is a *client*: its ``send`` and
``group_send`` are written to that socket, fire and forget, in call order on one connection per event loop, and the
hub delivers them to its connections as if they had been sent inside it. When no web process is listening (a
command run while the server is down), the pushes are dropped: pushes may be lost, browsers re-read on reconnect.

What each side pays: the hub's own sends stay in memory (no encoding); a client's push costs one msgpack encoding
and one write on a socket it keeps open. Channel names are the in-memory layer's (``specific..inmemory!…``).

One hub per socket: a second web process on the same ``path`` logs an error and serves only its own connections.
Several web processes (or machines) need Redis (``REDIS_URL``: ``channels_redis``), as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import msgpack
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer

logger = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")
MAX_FRAME_BYTES = 8 * 1024 * 1024
# The in-memory layer sweeps every channel and group for expired entries on every send; once a second is enough
# (a thousand connections made that sweep most of a group send's cost).
CLEAN_EVERY_SECONDS = 1.0
# A client that found no hub tries again after this long rather than on every push.
RECONNECT_SECONDS = 1.0


def default_socket_path() -> str:
    """``<VAR_DIR>/run/channels.sock``, or a name in the temporary directory derived from it when that path is
    too long for a unix socket (about 100 bytes)."""
    from django.conf import settings

    var_dir = Path(getattr(settings, "VAR_DIR", tempfile.gettempdir())).resolve()
    path = var_dir / "run" / "channels.sock"
    if len(str(path)) < 100:
        return str(path)
    digest = hashlib.sha256(str(var_dir).encode()).hexdigest()[:16]
    return str(Path(tempfile.gettempdir()) / f"atende-{digest}" / "channels.sock")


def encode(kind: str, target: str, message: dict[str, Any]) -> bytes:
    body = msgpack.packb([kind, target, message], use_bin_type=True)
    return _HEADER.pack(len(body)) + body


class LocalChannelLayer(InMemoryChannelLayer):
    """``CHANNEL_LAYERS = {"default": {"BACKEND": "atende.core.channel_layer.LocalChannelLayer",
    "CONFIG": {"path": "…"}}}`` (``path`` optional: ``default_socket_path()``)."""

    def __init__(self, path: str = "", **kwargs):
        super().__init__(**kwargs)
        self.path = path
        self.hub = False  # this process holds the connections
        self.server: asyncio.AbstractServer | None = None
        self._hub_lock: asyncio.Lock | None = None
        self._clients: dict[asyncio.AbstractEventLoop, asyncio.StreamWriter] = {}
        self._client_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._no_hub_until = 0.0
        self._last_clean = 0.0

    def socket_path(self) -> str:
        if not self.path:
            self.path = default_socket_path()
        return self.path

    # Hub ----------------------------------------------------------------------------------------------------

    async def new_channel(self, prefix: str = "specific.") -> str:
        if not self.hub:
            await self.serve()
        return await super().new_channel(prefix)

    async def serve(self) -> None:
        """Become the hub: deliver locally from now on and accept other processes' pushes on the socket."""
        if self.hub:
            return
        if self._hub_lock is None:
            self._hub_lock = asyncio.Lock()
        async with self._hub_lock:
            if self.hub:
                return
            self.hub = True
            path = self.socket_path()
            Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if await _listening(path):
                logger.error("another web process receives pushes at %s: this one serves only its own "
                             "connections (run one web process, or set REDIS_URL for several)", path)
                return
            try:
                os.unlink(path)  # left by a process that did not stop cleanly
            except FileNotFoundError:
                pass
            self.server = await asyncio.start_unix_server(self._serve_client, path=path, limit=MAX_FRAME_BYTES)
            os.chmod(path, 0o600)
            logger.info("channel layer: receiving other processes' pushes at %s", path)

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                header = await reader.readexactly(_HEADER.size)
                (size,) = _HEADER.unpack(header)
                if size > MAX_FRAME_BYTES:
                    logger.warning("channel layer: frame of %d bytes refused", size)
                    return
                kind, target, message = msgpack.unpackb(await reader.readexactly(size), raw=False)
                try:
                    if kind == "group_send":
                        await self._group_send_here(target, message)
                    elif kind == "send":
                        await self._send_here(target, message)
                except Exception:  # noqa: BLE001 - one bad push must not stop the others
                    logger.exception("channel layer: push to %s failed", target)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
            try:
                os.unlink(self.socket_path())
            except FileNotFoundError:
                pass
        for writer in self._clients.values():
            writer.close()
        self._clients.clear()
        self.hub = False

    # Sending ------------------------------------------------------------------------------------------------

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        if self.hub:
            await self._send_here(channel, message)
        else:
            self.require_valid_channel_name(channel)
            await self._forward("send", channel, message)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.hub:
            await self._group_send_here(group, message)
        else:
            assert isinstance(message, dict), "Message is not a dict"
            self.require_valid_group_name(group)
            await self._forward("group_send", group, message)

    async def _send_here(self, channel: str, message: dict[str, Any]) -> None:
        await super().send(channel, message)

    async def _group_send_here(self, group: str, message: dict[str, Any]) -> None:
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            try:
                await super().send(channel, message)
            except ChannelFull:
                pass

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_clean >= CLEAN_EVERY_SECONDS:
            self._last_clean = now
            super()._clean_expired()

    async def _forward(self, kind: str, target: str, message: dict[str, Any]) -> None:
        frame = encode(kind, target, message)
        loop = asyncio.get_running_loop()
        lock = self._client_locks.setdefault(loop, asyncio.Lock())
        async with lock:  # one connection per loop, frames in call order
            writer = self._clients.get(loop)
            if writer is None or writer.is_closing():
                writer = await self._connect(loop)
                if writer is None:
                    return
            try:
                writer.write(frame)
                await writer.drain()
            except (ConnectionError, OSError):
                self._clients.pop(loop, None)
                logger.debug("channel layer: the web process went away; push dropped")

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> asyncio.StreamWriter | None:
        if time.monotonic() < self._no_hub_until:
            return None
        try:
            _, writer = await asyncio.open_unix_connection(self.socket_path())
        except (FileNotFoundError, ConnectionError, OSError):
            self._no_hub_until = time.monotonic() + RECONNECT_SECONDS
            logger.debug("channel layer: no web process at %s; push dropped", self.socket_path())
            return None
        self._clients[loop] = writer
        return writer


async def _listening(path: str) -> bool:
    try:
        _, writer = await asyncio.open_unix_connection(path)
    except (FileNotFoundError, ConnectionError, OSError):
        return False
    writer.close()
    return True
