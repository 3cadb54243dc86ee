"""PROTOCOL.md "Clients and several nodes", without I/O: when a client leaves a node, and whether the request
that made it leave may be sent once more to the next node."""
from typing import Iterable, List, Sequence, Tuple, Union

from .codec import Op, Status
from .errors import ConnectionLost, RequestTimeout, ServerError

__all__ = ["SAFE_TO_REPEAT", "NODE_STATUSES", "is_safe_to_repeat", "moves_to_another_node", "parse_nodes"]

# Requests that change nothing, and LOGIN (the same code again: the code's outcome is remembered and WeChat refuses
# a code twice, so no second session appears). Never REFRESH, REVOKE, REVOKE_USER, RESET_SESSION_KEY (they may have
# changed state), PHONE_NUMBER (single-use code) or AUTH (it belongs to its connection).
SAFE_TO_REPEAT = frozenset({Op.PING, Op.VALIDATE, Op.DECRYPT, Op.VERIFY_SIGNATURE, Op.CHECK_SESSION_KEY, Op.LOGIN})

# Retryable statuses about the node itself. WECHAT_UNAVAILABLE and RATE_LIMITED are retryable too, but concern WeChat
# or the caller: another node would not help (and a LOGIN's late WeChat answer is kept by the node that asked).
NODE_STATUSES = frozenset({Status.SHUTTING_DOWN, Status.STORE_UNAVAILABLE, Status.SERVER_FULL, Status.INTERNAL_ERROR})

Node = Tuple[str, int]


def is_safe_to_repeat(op: int) -> bool:
    return op in SAFE_TO_REPEAT


def moves_to_another_node(exc: BaseException) -> bool:
    """Whether ``exc`` says the node failed (connection lost or timed out, or a status about the node)."""
    if isinstance(exc, ServerError):
        return exc.status in NODE_STATUSES
    return isinstance(exc, (ConnectionLost, RequestTimeout))


def parse_nodes(nodes: Iterable[Union[str, Sequence[object]]]) -> List[Node]:
    """``["10.0.0.1:7400", ("10.0.0.2", 7400), "[::1]:7400"]`` -> ``[(host, port), ...]``."""
    parsed: List[Node] = []
    for node in nodes:
        if isinstance(node, str):
            host, sep, port = node.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"node {node!r} is not host:port")
            if host.startswith("[") and host.endswith("]"):
                host = host[1:-1]
            parsed.append((host, int(port)))
        else:
            host, port = node  # type: ignore[misc]
            parsed.append((str(host), int(port)))  # type: ignore[call-overload]
    if not parsed:
        raise ValueError("at least one node")
    for host, port in parsed:
        if not 0 < port < 65536:
            raise ValueError(f"node {host}:{port}: port out of range")
    return parsed


