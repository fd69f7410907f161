"""mcp-hammer --heap for Python servers: the requests the private channel carries (see sitecustomize.py).

Imported on the first request, before tracing starts, so that none of this is traced. Everything here
answers mcp-hammer and nothing else: no output, no change to the server's state but tracemalloc's own.
Grouping the tracebacks by the server's own line is left to mcp-hammer; this side sends the tracebacks
whole, with what only the server's interpreter knows: its library folders, the types of the objects in
the traced blocks, and the function around each line.
"""
import ast
import gc
import os
import re
import site
import sys
import sysconfig
import time
import tracemalloc

# Keep the answer bounded: the largest tracebacks carry all but a sliver of the bytes.
MAX_STATS = 5000
_ignored = (tracemalloc.__file__, __file__, os.path.join(os.path.dirname(__file__), "sitecustomize.py"))
_largest = {}
_ATOMS = (str, bytes, int, float, complex)
_paths = None


def handle(request):
    what = request.get("do")
    if what == "start":
        global _paths
        if _paths is None:  # slow (package metadata), and better not traced
            _paths = library_paths()
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        tracemalloc.start(int(request.get("frames", 1)))
        return {"ok": True}
    if what == "stop":
        _largest.clear()
        tracemalloc.stop()
        return {"ok": True}
    if what == "traced":
        return {"ok": True, "traced": tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0}
    if what == "snapshot":
        return snapshot()
    if what == "retainer":
        return {"ok": True, "retainedBy": retainer(int(request["stat"]), float(request.get("seconds", 3)))}
    raise ValueError("unknown request %r" % (what,))


def snapshot():
    """What is still traced after a full collection, by traceback, largest first."""
    if not tracemalloc.is_tracing():
        raise RuntimeError("tracemalloc is not tracing")
    t0 = time.perf_counter()
    gc.collect()
    snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, f) for f in _ignored])
    stats = snap.statistics("traceback")
    t1 = time.perf_counter()
    kept = stats[:MAX_STATS]
    types = object_types({s.traceback: i for i, s in enumerate(kept)})
    paths = _paths or library_paths()
    files, rows = {}, []
    for i, s in enumerate(kept):
        frames = []
        for frame in reversed(s.traceback):  # innermost first
            frames += [files.setdefault(frame.filename, len(files)), frame.lineno]
        rows.append({"size": s.size, "count": s.count, "depth": s.traceback.total_nframe or len(s.traceback),
                     "frames": frames, "types": types.get(i, {})})
    rest = stats[MAX_STATS:]
    return {
        "ok": True, "paths": paths, "files": list(files), "stats": rows,
        "functions": functions(files, kept, paths),
        "omitted": {"stats": len(rest), "size": sum(s.size for s in rest)},
        "traced": tracemalloc.get_traced_memory()[0], "overhead": tracemalloc.get_tracemalloc_memory(),
        "seconds": {"snapshot": round(t1 - t0, 3), "types": round(time.perf_counter() - t1, 3)},
    }


def object_types(index):
    """Per traceback kept: the objects found in its blocks, by type, as [count, bytes]; and the largest
    of each (a container first), kept for retainer() until tracing stops."""
    found = {}
    _largest.clear()
    for obj, i in traced_objects(index):
        counts = found.setdefault(i, {})
        entry = counts.setdefault(type(obj).__qualname__, [0, 0])
        size = sys.getsizeof(obj, 0)
        entry[0] += 1
        entry[1] += size
        # A container rather than what it holds: gc finds what refers to a container, not always to a
        # string (held by a dict gc does not track).
        rank = (not isinstance(obj, _ATOMS), size)
        if rank > _largest.get(i, ((False, 0), None))[0]:
            _largest[i] = (rank, obj)
    return found


def traced_objects(index):
    """(object, index[traceback]) for the objects whose block has a traceback in index: gc's containers,
    and what they hold that gc does not track (strings, numbers, a dict of only those), two levels down.
    Written to allocate little: everything allocated here while tracing is on pays the full price."""
    trace = tracemalloc.get_object_traceback
    tracked = gc.is_tracked
    objects = gc.get_objects()
    for obj in objects:
        i = index.get(trace(obj))
        if i is not None:
            yield obj, i
    inner = []
    for start in range(0, len(objects), 4096):
        for ref in gc.get_referents(*objects[start:start + 4096]):
            if not tracked(ref):
                i = index.get(trace(ref))
                if i is not None:
                    yield ref, i
                    if isinstance(ref, (dict, tuple)):
                        inner.append(ref)
    del objects
    for ref in gc.get_referents(*inner):
        if not tracked(ref):
            i = index.get(trace(ref))
            if i is not None:
                yield ref, i


def library_paths():
    """The folders whose frames are not the server's own: the standard library, site-packages, and the
    packages of the MCP SDK and everything it depends on."""
    names = sysconfig.get_path_names()
    paths = sysconfig.get_paths()
    stdlib = {paths[k] for k in ("stdlib", "platstdlib") if k in names}
    sites = {paths[k] for k in ("purelib", "platlib") if k in names}
    try:
        sites.update(site.getsitepackages())
        sites.add(site.getusersitepackages())
    except AttributeError:  # an old virtualenv's site module
        pass
    return {"stdlib": sorted(stdlib), "site": sorted(sites), "sdk": sdk_paths()}


def sdk_paths():
    from importlib import metadata

    seen, todo, found = set(), ["mcp", "fastmcp"], set()
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", req).group(1))
        for f in dist.files or []:
            top = f.parts[0]
            if top == ".." or top.endswith((".dist-info", ".egg-info", ".pth")) or top == "__pycache__":
                continue
            if len(f.parts) > 1 or top.endswith((".py", ".so", ".pyd")):
                found.add(os.path.normpath(str(dist.locate_file(top))))
    return sorted(found)


def functions(files, kept, paths):
    """The function around each line of the frames outside the standard library and the SDK."""
    skip = tuple(p.rstrip(os.sep) + os.sep for p in paths["stdlib"] + paths["sdk"])
    wanted = {}
    for tb in kept:
        for frame in tb.traceback:
            f = frame.filename
            if not f.startswith("<") and not f.startswith(skip) and f not in paths["sdk"]:
                wanted.setdefault(f, set()).add(frame.lineno)
    out = {}
    for f, lines in wanted.items():
        defs = definitions(f)
        for line in lines:
            inner = [d for d in defs if d[0] <= line <= d[1]]
            out["%d:%d" % (files[f], line)] = max(inner)[2] if inner else "<module>"
    return out


def definitions(path):
    """(first line, last line, qualified name) of every function in a source file."""
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return []
    out = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                    out.append((first, child.end_lineno, name))
                walk(child, name + ("." if isinstance(child, ast.ClassDef) else ".<locals>."))
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def retainer(stat, seconds):
    """How the largest object found in the blocks of the stat'th traceback of the last snapshot is reached
    from a module's global, e.g. "history[4711]" or "cache['k12']['body']"; None when no path is found
    within the time given (it is a hint, not a proof)."""
    deadline = time.monotonic() + seconds
    if stat not in _largest:
        return None
    target = _largest.pop(stat)[1]
    _largest.clear()
    modules = {}
    for name, m in list(sys.modules.items()):
        if hasattr(m, "__dict__") and (name == "__main__" or id(m.__dict__) not in modules):
            modules[id(m.__dict__)] = name  # __main__ rather than multiprocessing's alias __mp_main__
    objs, paths = [target], [[]]
    del target
    seen = set(map(id, objs))
    for _ in range(10):
        if not objs or time.monotonic() > deadline:
            return None
        by_id = {id(o): p for o, p in zip(objs, paths)}
        ours = {id(objs), id(paths)}
        next_objs, next_paths = [], []
        ours.update((id(next_objs), id(next_paths)))
        for holder in gc.get_referrers(*objs):
            if id(holder) in seen or id(holder) in ours or type(holder).__name__ in ("frame", "generator", "coroutine"):
                continue
            if type(holder) is tuple and len(holder) == len(objs) and all(a is b for a, b in zip(holder, objs)):
                continue  # the arguments of get_referrers itself
            seen.add(id(holder))
            for child in gc.get_referents(holder):
                path = by_id.get(id(child))
                if path is None:
                    continue
                step = _step(holder, child)
                if id(holder) in modules and step and step[0] == "key":
                    return _render(modules[id(holder)], step[1], path)
                next_objs.append(holder)
                next_paths.append([step] + path)
                break
        objs, paths = next_objs[:200], next_paths[:200]
    return None


def _step(holder, child):
    """How holder refers to child: ("index", i), ("key", k), ("attrs",) for an object's __dict__, or None."""
    if isinstance(holder, (list, tuple)):
        for i, x in enumerate(holder):
            if x is child:
                return ("index", i)
    elif isinstance(holder, dict):
        for k, v in holder.items():
            if v is child:
                return ("key", k)
        return ("in-keys",)
    elif getattr(holder, "__dict__", None) is child:
        return ("attrs",)
    return None


def _render(module, name, path):
    out = name if module == "__main__" else "%s.%s" % (module, name)
    attrs = False
    for step in path:
        if step is None:
            out += ".?"
        elif step[0] == "attrs":
            attrs = True
            continue
        elif step[0] == "index":
            out += "[%d]" % step[1]
        elif step[0] == "key":
            key = step[1]
            if attrs and isinstance(key, str) and key.isidentifier():
                out += "." + key
            else:
                text = repr(key)
                out += "[%s]" % (text if len(text) <= 40 else text[:37] + "...")
        else:
            out += " (a key)"
        attrs = False
    return out
