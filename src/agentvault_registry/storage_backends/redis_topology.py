"""Where the redis cache connects: one server, a Redis Cluster, or a master found by Sentinel.

The URL's scheme says which, so one secret option carries the whole address and password:

- ``redis://``, ``rediss://``, ``unix://``: one server, in redis-py's own URL syntax.
- ``redis+cluster://[user:password@]host:port[,host:port...]/``: some nodes of a Redis
  Cluster; the client discovers the rest and follows slot moves. A cluster has database 0 only.
- ``redis+sentinel://[user:password@]host:port[,host:port...]/service_name[/db]``: the
  sentinels watching ``service_name``; the client asks them for the current master and again
  after a failover. The password is the master's (the sentinels themselves take none).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

CLUSTER_SCHEME = "redis+cluster"
SENTINEL_SCHEME = "redis+sentinel"
SINGLE_SERVER_SCHEMES = ("redis", "rediss", "unix")
URL_SCHEMES = (*SINGLE_SERVER_SCHEMES, CLUSTER_SCHEME, SENTINEL_SCHEME)

DEFAULT_PORTS = {CLUSTER_SCHEME: 6379, SENTINEL_SCHEME: 26379}


@dataclass(frozen=True)
class RedisTopology:
    """A cluster's or sentinels' address, parsed from a ``redis+cluster``/``redis+sentinel`` URL."""

    mode: str
    nodes: tuple[tuple[str, int], ...]
    username: str | None = None
    password: str | None = None
    service_name: str | None = None
    db: int = 0

    @property
    def is_cluster(self) -> bool:
        return self.mode == CLUSTER_SCHEME


def parse_topology(url: str) -> RedisTopology | None:
    """The topology a cluster or sentinel URL names; ``None`` for a single-server URL.

    Raises ValueError, whose message never contains the password, for a malformed URL.
    """
    scheme, separator, rest = url.partition("://")
    if scheme not in (CLUSTER_SCHEME, SENTINEL_SCHEME):
        return None
    if not separator:
        raise ValueError(f"a {scheme} URL looks like {scheme}://host:port[,host:port]/...")
    netloc, _, path = rest.partition("/")
    userinfo, _, hosts = netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    nodes = tuple(_node(host, DEFAULT_PORTS[scheme]) for host in hosts.split(","))
    segments = [segment for segment in path.split("?")[0].split("/") if segment]
    credentials = {"username": unquote(username) or None, "password": unquote(password) or None}
    if scheme == CLUSTER_SCHEME:
        if segments not in ([], ["0"]):
            raise ValueError("a Redis Cluster has database 0 only; end the URL with '/'.")
        return RedisTopology(CLUSTER_SCHEME, nodes, **credentials)
    if not segments or len(segments) > 2:
        raise ValueError("a sentinel URL ends with /service_name or /service_name/db.")
    db = segments[1] if len(segments) == 2 else "0"
    if not db.isdigit():
        raise ValueError("the sentinel URL's database must be a number.")
    return RedisTopology(
        SENTINEL_SCHEME, nodes, service_name=unquote(segments[0]), db=int(db), **credentials
    )


def _node(text: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit("//" + text)
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} has no valid port.") from None
    if not parts.hostname:
        raise ValueError("every node needs a host: host:port[,host:port...].")
    return parts.hostname, port or default_port
