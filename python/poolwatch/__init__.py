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

from ._pool import (
    ApplyResult,
    AsyncResult,
    Halted,
    MapResult,
    Pool,
    PoolError,
    RemoteTraceback,
    TimeoutError,  # noqa: A004 - multiprocessing.TimeoutError itself
    binary,
)

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
