"""poolwatch.Pool against multiprocessing.Pool (and mpire's WorkerPool, when installed).

    python benches/python_pool.py [--json] [--repeat N] [--tasks N] [--cases a,b,...]

Cases, each run in a fresh Python process (so one does not warm the next), timed from the
Pool(...) call, median of --repeat runs, the cases taken in turn (one run of each per repeat):

- tiny_*: 2,000,000 tiny tasks (`p == -1`) on 2 workers through imap_unordered, every
  result consumed: multiprocessing and mpire with chunksize 1000, poolwatch with none (it
  sizes its own batches);
- ex2_*: the article's example 2 (10 workers, 50,000 apply_async of a 1 ms task, the
  results taken in order, terminate at the first True), to the return of terminate();
- mem_*: the caller's peak RSS for imap_unordered over a generator of 200,000 and of
  2,000,000 tiny tasks (poolwatch): memory does not grow with the iterable's length.

Needs the poolwatch package importable (pip install ., or PYTHONPATH=python with
POOLWATCH_BIN). Prints a table, or one JSON object with --json.
"""

import json
import os
import queue
import sys
import time

# The harness's own imports (argparse, statistics, subprocess) are made in main(): the
# workers of a spawning pool import this script as the caller's `__main__`, as they would
# the article's script, whose only imports are the pool, time and queue.


def tiny(p):
    return p == -1


def test(p):
    time.sleep(0.001)
    if p == 10000:
        return True
    else:
        return False


def _pool_class(kind):
    if kind == "mp":
        from multiprocessing import Pool
    else:
        from poolwatch import Pool
    return Pool


def case_tiny(kind, tasks):
    # Each pool's module is imported before the clock starts, as in the other cases: the
    # time runs from the Pool(...) call.
    if kind == "mpire":
        from mpire import WorkerPool
    else:
        Pool = _pool_class(kind)
    started = time.perf_counter()
    count = 0
    if kind == "mpire":
        with WorkerPool(n_jobs=2) as pool:
            for _ in pool.imap_unordered(tiny, range(tasks), chunk_size=1000):
                count += 1
    elif kind == "mp":
        with Pool(2) as pool:
            for _ in pool.imap_unordered(tiny, range(tasks), chunksize=1000):
                count += 1
    else:
        with Pool(2, dashboard=False) as pool:
            for _ in pool.imap_unordered(tiny, range(tasks)):
                count += 1
    assert count == tasks, count
    return time.perf_counter() - started


def case_ex2(kind, _tasks):
    Pool = _pool_class(kind)
    started = time.perf_counter()
    pool = Pool(processes=10)
    q = queue.Queue()
    for i in range(50000):
        q.put(pool.apply_async(test, args=(i,)))
    while 1:
        if q.get().get():
            pool.terminate()
            break
    elapsed = time.perf_counter() - started
    pool.join()
    return elapsed


def case_mem(kind, tasks):
    Pool = _pool_class(kind)
    started = time.perf_counter()
    with Pool(2, dashboard=False) as pool:
        for _ in pool.imap_unordered(tiny, (i for i in range(tasks))):
            pass
    return time.perf_counter() - started


CASES = {
    "tiny_mp": (case_tiny, "mp", None),
    "tiny_poolwatch": (case_tiny, "pw", None),
    "tiny_mpire": (case_tiny, "mpire", None),
    "ex2_mp": (case_ex2, "mp", None),
    "ex2_poolwatch": (case_ex2, "pw", None),
    "mem_poolwatch_200k": (case_mem, "pw", 200_000),
    "mem_poolwatch_2m": (case_mem, "pw", 2_000_000),
}


def run_one(name, tasks):
    """Runs a case in this process; prints its seconds and peak RSS as JSON."""
    func, kind, fixed = CASES[name]
    seconds = func(kind, fixed or tasks)
    peak = 0
    with open("/proc/self/status") as status:  # VmHWM: this process's own peak (ru_maxrss survives exec)
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1])
    print(json.dumps({"seconds": seconds, "peak_rss_kb": peak}))


def main():
    import argparse
    import statistics
    import subprocess

    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=2_000_000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.tasks)
        return
    try:
        import mpire  # noqa: F401

        have_mpire = True
    except ImportError:
        have_mpire = False
    results = {}
    names = []
    for name in args.cases.split(","):
        if name == "tiny_mpire" and not have_mpire:
            results[name] = {"skipped": "mpire is not installed (pip install mpire)"}
        else:
            names.append(name)
    # Round-robin over the cases (one run of each, then the next repeat), so that a change
    # in the machine's load during the benchmark weighs on every case alike.
    runs = {name: [] for name in names}
    for _ in range(args.repeat):
        for name in names:
            if name in results:
                continue
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--one", name, "--tasks", str(args.tasks)],
                capture_output=True, text=True, timeout=900,
            )
            if out.returncode != 0:
                results[name] = {"error": out.stderr[-1000:]}
                continue
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    for name in names:
        if name in results:
            continue
        results[name] = {
            "seconds_median": statistics.median(run["seconds"] for run in runs[name]),
            "seconds": [round(run["seconds"], 3) for run in runs[name]],
            "peak_rss_kb_max": max(run["peak_rss_kb"] for run in runs[name]),
        }

    def ratio(slow, fast):
        # > 1: poolwatch is faster (the other's time over poolwatch's).
        a, b = results.get(slow, {}), results.get(fast, {})
        if "seconds_median" in a and "seconds_median" in b:
            return round(a["seconds_median"] / b["seconds_median"], 3)
        return None

    report = {
        "tasks": args.tasks,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "cases": results,
        "speedup_tiny_vs_mp": ratio("tiny_mp", "tiny_poolwatch"),
        "speedup_tiny_vs_mpire": ratio("tiny_mpire", "tiny_poolwatch"),
        "ex2_time_over_mp": (
            round(results["ex2_poolwatch"]["seconds_median"] / results["ex2_mp"]["seconds_median"], 3)
            if "seconds_median" in results.get("ex2_poolwatch", {}) and "seconds_median" in results.get("ex2_mp", {})
            else None
        ),
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for name, result in results.items():
        print(f"{name:22} {result}")
    for key in ("speedup_tiny_vs_mp", "speedup_tiny_vs_mpire", "ex2_time_over_mp"):
        print(f"{key:22} {report[key]}")


if __name__ == "__main__":
    main()
