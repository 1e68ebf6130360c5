"""The process-wide cache of procedure runtimes (bộ đệm đặc tả theo phiên bản).

Parsing a version costs milliseconds; a step costs well under one. So each process parses a
version once, on first use, and keeps the most recently used runtimes. Keys name the content
(e.g. ``"version:12:<sha256>"``), so a cached spec can never be applied to other BPMN.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from engine.runtime.procedure import ProcedureRuntime

#: How many versions a process keeps parsed. A province publishes a few hundred procedures;
#: a worker touches far fewer between restarts.
DEFAULT_SIZE = 256

_cache: OrderedDict[str, ProcedureRuntime] = OrderedDict()
_building: dict[str, threading.Lock] = {}
_lock = threading.Lock()
_size = DEFAULT_SIZE


def runtime_for(version_key: str, loader: Callable[[], bytes]) -> ProcedureRuntime:
    """The cached runtime for *version_key*; on a miss, ``loader()`` gives the BPMN bytes.

    Thread-safe: concurrent misses on one key parse once (the others wait for it), while hits
    and other keys are not held up by the parsing. A loader or parse error is raised to the
    callers and nothing is cached.
    """
    with _lock:
        runtime = _cache.get(version_key)
        if runtime is not None:
            _cache.move_to_end(version_key)
            return runtime
        key_lock = _building.setdefault(version_key, threading.Lock())
    with key_lock:
        with _lock:
            runtime = _cache.get(version_key)
            if runtime is not None:
                _cache.move_to_end(version_key)
                return runtime
        try:
            runtime = ProcedureRuntime.from_bpmn(loader())
            with _lock:
                _cache[version_key] = runtime
                while len(_cache) > _size:
                    _cache.popitem(last=False)
        finally:
            with _lock:
                _building.pop(version_key, None)
    return runtime


def set_cache_size(size: int) -> None:
    """Keep at most *size* runtimes (the least recently used go first)."""
    global _size
    if size < 1:
        raise ValueError("the cache holds at least one runtime")
    with _lock:
        _size = size
        while len(_cache) > _size:
            _cache.popitem(last=False)


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def cached_keys() -> list[str]:
    """Keys from least to most recently used (for tests and diagnostics)."""
    with _lock:
        return list(_cache)
