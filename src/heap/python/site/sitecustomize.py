"""mcp-hammer --heap for Python servers: tracemalloc, started and read over a channel private to one run.

Python's site module imports this file at startup because mcp-hammer puts its folder first on the
server's PYTHONPATH; the server's own code is not touched. It does nothing unless this process was handed
mcp-hammer's channel: a Unix socket inherited as file descriptor MCP_HAMMER_HEAP_FD whose other end the
mcp-hammer process made (checked with SO_PEERCRED where the system has it, so a stray descriptor 3 in
some other Python program is left alone). Nothing else on the machine can reach that socket: it has no
name and no port. A thread waits on it for mcp-hammer's requests (one JSON object a line):

  start     tracemalloc.start(frames): from here on, every allocation records where it was made
  snapshot  a full collection, then the blocks still traced, by allocation traceback, with the types
            of the objects found in them and the function around each line of the server's own code
  retainer  the path from a module's global to one object of a traceback of the last snapshot
  traced    the bytes traced now
  stop      tracemalloc.stop()

Tracing is started by mcp-hammer after the server's warm-up, not here: traced from startup, importing the
SDK takes a minute (32 frames) and every call is slower. Nothing is written to stdout, which carries the
server's JSON-RPC. Then the next sitecustomize on sys.path (a distribution's own) runs, as if this one were
not there. Written for any Python 3, so that an old one can say its version instead of failing to parse.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_FD = "MCP_HAMMER_HEAP_FD"
_PEER = "MCP_HAMMER_HEAP_PEER"
_channel = None


def _open_channel():
    """The channel's socket (a private copy of the inherited descriptor), or None when it is not ours."""
    import socket
    import stat
    import struct

    try:
        fd = int(os.environ.get(_FD, ""))
        peer = int(os.environ.get(_PEER, ""))
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return None
    except (ValueError, OSError):
        return None
    if sys.version_info >= (3, 7):  # the family read from the descriptor
        sock = socket.socket(fileno=os.dup(fd))
    else:  # taken on trust, then checked by SO_PEERCRED, which only a Unix socket answers
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=os.dup(fd))
    try:
        ours = sock.family == socket.AF_UNIX
        if ours and hasattr(socket, "SO_PEERCRED"):
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            ours = struct.unpack("3i", creds)[0] == peer
    except OSError:
        ours = False
    if not ours:
        sock.close()
        return None
    sock.setblocking(True)
    return sock


def _send(message):
    import json

    _channel.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")


def _forget():
    """In a forked child: the channel belongs to the process that claimed it."""
    global _channel
    try:
        _channel.close()
    except Exception:
        pass
    _channel = None
    try:
        os.close(int(os.environ.pop(_FD)))
    except Exception:
        pass


def _serve():
    buffered = b""
    while True:
        try:
            chunk = _channel.recv(65536)
        except OSError:
            return
        if not chunk:
            return
        buffered += chunk
        while b"\n" in buffered:
            line, buffered = buffered.split(b"\n", 1)
            _answer(line)


def _answer(line):
    import json

    request = {}
    try:
        request = json.loads(line)
        from mcp_hammer_heap import handle

        reply = handle(request)
        reply["id"] = request.get("id")
    except Exception as err:  # never into the server: back to mcp-hammer, in one line
        reply = {"id": request.get("id"), "error": "%s: %s" % (type(err).__name__, err)}
    try:
        _send(reply)
    except OSError:
        pass


def _claim():
    global _channel
    _channel = _open_channel()
    if _channel is None:
        return
    hello = {"hello": {"pid": os.getpid(), "python": "%d.%d.%d" % sys.version_info[:3],
                       "implementation": sys.implementation.name, "executable": sys.executable}}
    _send(hello)
    if sys.version_info < (3, 10):
        return
    import threading

    os.register_at_fork(after_in_child=_forget)
    threading.Thread(target=_serve, name="mcp-hammer-heap", daemon=True).start()


def _chain():
    """Run the sitecustomize this one hides, if there is one further on sys.path."""
    import importlib.machinery
    import importlib.util

    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    # The import in progress returns whatever holds the name once this file has run.
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


if os.environ.get(_FD):
    try:
        _claim()
    except Exception:
        _channel = None
_chain()
