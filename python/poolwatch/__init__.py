"""poolwatch for Python: `from poolwatch import Pool` is multiprocessing.Pool's API, run by
the poolwatch binary, with its live terminal dashboard, halt rules, event log and resume.

    from poolwatch import Pool

    def test(p):
        return p == 10000

    if __name__ == "__main__":
        with Pool(10, halt="now") as pool:
            print(pool.map(test, range(50000)))

See docs/python.md in the repository.
"""

# The names are looked up in ._pool on first use (PEP 562), so that a worker process
# (`python -m poolwatch._worker`) does not import the caller's side of the package.
_NAMES = (
    "ApplyResult",
    "AsyncResult",
    "Halted",
    "MapResult",
    "Pool",
    "PoolError",
    "RemoteTraceback",
    "TimeoutError",  # multiprocessing.TimeoutError itself
    "binary",
)


def __getattr__(name):
    if name in _NAMES:
        from . import _pool

        value = getattr(_pool, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'poolwatch' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_NAMES))


__all__ = [
    "Pool",
    "ApplyResult",
    "AsyncResult",
    "MapResult",
    "Halted",
    "PoolError",
    "RemoteTraceback",
    "TimeoutError",
    "binary",
]
