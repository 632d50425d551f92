"""poolwatch.Pool against multiprocessing.Pool, on the real poolwatch binary.

Run after `pip install .` in a fresh venv (`.ci/python-tests`), or during development with
POOLWATCH_BIN=target/debug/poolwatch PYTHONPATH=python pytest tests/python.
"""

import itertools
import json
import multiprocessing
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

import helpers
import poolwatch
from poolwatch import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(autouse=True)
def marker(monkeypatch):
    """Every process a test starts carries this variable, so leftovers can be found."""
    mark = "pwtest-" + uuid.uuid4().hex
    monkeypatch.setenv("PWTEST_MARK", mark)
    yield mark


def processes_marked(mark):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                env = handle.read()
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if b"PWTEST_MARK=" + mark.encode() in env.split(b"\0") and state != b"Z":
            found.append(int(pid))
    return found


def assert_none_left(mark, within=15.0):
    deadline = time.monotonic() + within
    while True:
        left = processes_marked(mark)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert left == [], f"processes left: {left}"


def mp_pool(*args, **kwargs):
    return multiprocessing.get_context("spawn").Pool(*args, **kwargs)


# ---- the API against multiprocessing.Pool ---------------------------------------------------


def test_every_method_gives_what_multiprocessing_gives():
    data = list(range(200))
    pairs = [(i, i + 1) for i in range(50)]
    got = {}
    for name, make in (("mp", mp_pool), ("pw", lambda n: Pool(n, dashboard=False))):
        with make(2) as pool:
            got[name] = {
                "map": pool.map(helpers.square, data),
                "map_chunks": pool.map(helpers.square, data, chunksize=7),
                "imap": list(pool.imap(helpers.square, data)),
                "imap_unordered": sorted(pool.imap_unordered(helpers.square, iter(data))),
                "starmap": pool.starmap(helpers.add, pairs),
                "apply": pool.apply(helpers.kw, (1,), {"b": 2, "c": 3}),
                "apply_async": [r.get(30) for r in [pool.apply_async(helpers.add, (i, i)) for i in range(30)]],
                "map_async": pool.map_async(helpers.square, data).get(30),
                "starmap_async": pool.starmap_async(helpers.add, pairs).get(30),
                "strings": pool.map(helpers.identity, ["a", "b c", "", "\n", "é"]),
                "objects": pool.map(helpers.make_custom, range(5)),
                "big": pool.map(helpers.big, range(3)),
                "empty": pool.map(helpers.square, []),
                "none_and_nested": pool.map(helpers.identity, [None, (1, [2]), {"k": {3}}, -5, 2**80]),
            }
    assert got["pw"] == got["mp"]


def test_exceptions_are_raised_again_with_the_worker_traceback():
    for make in (mp_pool, lambda n: Pool(n, dashboard=False)):
        with make(2) as pool:
            with pytest.raises(ValueError, match="bad input 3") as info:
                pool.map(helpers.fails_on_3, range(10))
            assert "fails_on_3" in str(info.value.__cause__)
            result = pool.apply_async(helpers.fails_on_3, (3,))
            with pytest.raises(ValueError, match="bad input 3"):
                result.get(30)
            assert result.ready() and not result.successful()
    with Pool(2, dashboard=False) as pool:
        with pytest.raises(Exception, match="cannot travel|Unpicklable"):
            pool.map(helpers.raises_unpicklable, range(2))


def test_imap_goes_on_after_an_exception_as_multiprocessing_does():
    def outcomes(pool):
        out = []
        iterator = pool.imap(helpers.fails_on_3, range(6))
        for _ in range(6):
            try:
                out.append(next(iterator))
            except ValueError as exc:
                out.append(str(exc))
        with pytest.raises(StopIteration):
            next(iterator)
        return out

    with mp_pool(2) as pool:
        expected = outcomes(pool)
    with Pool(2, dashboard=False) as pool:
        assert outcomes(pool) == expected


def test_async_result_api_and_callbacks():
    seen = []
    with Pool(2, dashboard=False) as pool:
        slow = pool.apply_async(helpers.sleepy, (1,))
        with pytest.raises(multiprocessing.TimeoutError):
            pool.apply_async(helpers.sleep_long, (1,)).get(timeout=0.2)
        with pytest.raises(ValueError):
            pool.apply_async(helpers.sleep_long, (2,)).successful()
        slow.wait(30)
        assert slow.ready() and slow.successful() and slow.get() == 1
        pool.apply_async(helpers.square, (4,), callback=seen.append).wait(30)
        pool.apply_async(helpers.fails_on_3, (3,), error_callback=lambda e: seen.append(type(e).__name__)).wait(30)
        result = pool.map_async(helpers.square, range(5), callback=seen.append)
        result.wait(30)
        assert result.get() == [0, 1, 4, 9, 16]
    assert seen == [16, "ValueError", [0, 1, 4, 9, 16]]
    assert poolwatch.TimeoutError is multiprocessing.TimeoutError


def test_close_join_and_a_closed_pool_refuse_as_multiprocessing_does():
    for make in (mp_pool, lambda n: Pool(n, dashboard=False)):
        pool = make(2)
        results = [pool.apply_async(helpers.sleepy, (i,)) for i in range(20)]
        with pytest.raises(ValueError):
            pool.join()  # still running
        pool.close()
        with pytest.raises(ValueError):
            pool.map(helpers.square, range(3))
        with pytest.raises(ValueError):
            pool.apply_async(helpers.square, (3,))
        pool.join()
        assert [r.get(0) for r in results] == list(range(20))


def test_terminate_stops_running_tasks_and_leaves_no_process(marker):
    pool = Pool(3, dashboard=False)
    results = [pool.apply_async(helpers.sleep_long, (i,)) for i in range(6)]
    time.sleep(1.0)
    assert processes_marked(marker), "the workers should be running"
    started = time.monotonic()
    pool.terminate()
    pool.join()
    assert time.monotonic() - started < 10
    assert_none_left(marker)
    with pytest.raises(poolwatch.Halted):
        results[0].get(1)
    with pytest.raises(ValueError):
        pool.apply_async(helpers.square, (2,))


def test_initializer_runs_in_every_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("PWTEST_INIT_FILE", str(tmp_path / "init"))
    with mp_pool(2, initializer=helpers.init, initargs=("ready",)) as pool:
        expected = pool.map(helpers.read_init, range(20))
    with Pool(2, initializer=helpers.init, initargs=("ready",), dashboard=False) as pool:
        assert pool.map(helpers.read_init, range(20)) == expected == ["ready"] * 20


def test_maxtasksperchild_renews_the_interpreter(tmp_path, monkeypatch):
    init_file = tmp_path / "init"
    monkeypatch.setenv("PWTEST_INIT_FILE", str(init_file))
    with Pool(1, initializer=helpers.init, initargs=(1,), maxtasksperchild=10, dashboard=False) as pool:
        assert pool.map(helpers.square, range(50)) == [x * x for x in range(50)]
    assert len(init_file.read_text().split()) >= 5


def test_workers_skip_site_only_when_the_callers_imports_need_nothing_of_it(monkeypatch):
    from poolwatch import _pool

    # pytest's own assertion-rewriting hook is one such hook: the plain import machinery first.
    standard = [f for f in sys.meta_path if getattr(f, "__module__", None) in _pool._STANDARD_IMPORTERS]
    monkeypatch.setattr(sys, "meta_path", standard)
    hooks = [h for h in sys.path_hooks if getattr(h, "__module__", None) in _pool._STANDARD_IMPORTERS]
    monkeypatch.setattr(sys, "path_hooks", hooks)
    assert _pool._worker_python() == [sys.executable, "-S"]

    class Finder:  # an import hook, as an editable install's .pth file installs one
        def find_spec(self, *args):
            return None

    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    assert _pool._worker_python() == [sys.executable]


def test_workers_started_without_site_still_import_sitecustomize(tmp_path):
    # The caller imported sitecustomize at start-up (site does): so do the workers.
    custom = tmp_path / "custom"
    custom.mkdir()
    marks = tmp_path / "marks"
    (custom / "sitecustomize.py").write_text(
        f"import os\nwith open({str(marks)!r}, 'a') as f:\n    f.write(str(os.getpid()) + '\\n')\n"
    )
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import sys
        from poolwatch import Pool

        def square(x):
            return x * x

        if __name__ == "__main__":
            assert "sitecustomize" in sys.modules
            with Pool(2, dashboard=False) as pool:
                print(sum(pool.map(square, range(100))))
    """))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(custom), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout == b"328350\n"
    # The caller and each of the 2 workers.
    assert len(set(marks.read_text().split())) >= 3


def test_iterables_are_read_lazily():
    pulled = []

    def numbers():
        for i in itertools.count():
            pulled.append(i)
            yield i

    with Pool(2, dashboard=False) as pool:
        iterator = pool.imap(helpers.identity, numbers())
        assert [next(iterator) for _ in range(100)] == list(range(100))
    # Only what poolwatch reads ahead (its line buffer and the pipe) was pulled.
    assert len(pulled) < 200_000


def test_print_in_a_task_never_corrupts_the_results():
    with Pool(2, dashboard=False) as pool:
        assert pool.map(helpers.chatty, range(100)) == [2 * x for x in range(100)]


def test_a_lambda_is_refused_as_multiprocessing_refuses_it():
    with Pool(1, dashboard=False) as pool:
        with pytest.raises(Exception):
            pool.map(lambda x: x, range(3))


# ---- halt rules, log and resume --------------------------------------------------------------


def test_halt_now_stops_at_the_first_truthy_result():
    with Pool(2, halt="now", dashboard=False) as pool:
        started = time.monotonic()
        results = pool.map(helpers.is_target, range(10_000_000))
        assert time.monotonic() - started < 60
        assert True in results
        assert len(results) < 10_000_000
        assert pool.last_summary["halt_reason"] == "match"
        # per call: never halts
        assert pool.map(helpers.is_target, range(1000), halt="never").count(True) == 1


def test_an_ordered_map_halted_on_a_match_ends_at_it_with_nothing_missing():
    # In order, a result at position i is the result of item i: a halt ends the results at the
    # match, every item before it run (none skipped, which would shift the rest).
    with Pool(4, halt="now", dashboard=False) as pool:
        results = pool.map(helpers.is_target, range(200_000))
        # Tasks after the match that had run already are kept; nothing before it is missing.
        assert results.index(True) == 500 and len(results) < 200_000
        hits = [p for p, hit in zip(range(200_000), pool.imap(helpers.is_target, range(200_000))) if hit]
        assert hits == [500]


def test_halt_after_n_matches_and_on_failures():
    with Pool(2, dashboard=False) as pool:
        results = list(pool.imap_unordered(helpers.is_even, range(100_000), halt="after=5"))
        assert results.count(True) >= 5 and len(results) < 100_000
        assert pool.last_summary["halt_reason"] == "after"
        with pytest.raises(ValueError):
            pool.map(helpers.fails_on_3, range(100), halt="now,fail=1")


def test_a_bad_halt_policy_is_an_error():
    with Pool(1, dashboard=False) as pool:
        with pytest.raises(poolwatch.PoolError, match="halt|policy"):
            pool.map(helpers.square, range(3), halt="whenever")


def test_log_and_resume_run_only_what_a_killed_run_left(tmp_path, marker):
    log = tmp_path / "run.jsonl"
    done = tmp_path / "done"
    script = tmp_path / "first.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {HERE!r})
        import helpers
        from poolwatch import Pool
        if __name__ == "__main__":
            with Pool(2, log={str(log)!r}, dashboard=False) as pool:
                pool.map(helpers.record, range(2000))
    """))
    env = dict(os.environ, PWTEST_DONE_FILE=str(done))
    child = subprocess.Popen([sys.executable, str(script)], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if done.exists() and len(done.read_text().split()) >= 100:
            break
        time.sleep(0.05)
    time.sleep(1.3)  # a checkpoint in the log (progress events come every second)
    child.kill()
    child.wait()
    assert_none_left(marker)
    first = set(map(int, done.read_text().split()))
    assert 0 < len(first) < 2000
    os.environ["PWTEST_DONE_FILE"] = str(done)
    try:
        with Pool(2, dashboard=False) as pool:
            rest = pool.map(helpers.record, range(2000), resume=log)
    finally:
        del os.environ["PWTEST_DONE_FILE"]
    assert len(rest) < 2000
    assert first | set(rest) == set(range(2000))
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(event.get("event") == "end" for event in events)


# ---- no process left ---------------------------------------------------------------------------

CALLER = """
import sys, time
sys.path.insert(0, {here!r})
import helpers
from poolwatch import Pool
if __name__ == "__main__":
    pool = Pool(3, dashboard=False)
    print("started", flush=True)
    pool.map(helpers.sleep_long, range(10))
"""


def start_caller(tmp_path):
    script = tmp_path / "caller.py"
    script.write_text(CALLER.format(here=HERE))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"started"
    time.sleep(1.5)
    return child


def test_no_process_left_after_sigkill_of_the_caller(tmp_path, marker):
    child = start_caller(tmp_path)
    assert len(processes_marked(marker)) >= 4  # the caller, poolwatch, workers
    child.kill()
    child.wait()
    assert_none_left(marker)


def test_no_process_left_after_a_keyboard_interrupt(tmp_path, marker):
    child = start_caller(tmp_path)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert b"KeyboardInterrupt" in err
    assert_none_left(marker)


# ---- the terminal ------------------------------------------------------------------------------

DASHBOARD_SCRIPT = """
import sys, termios
sys.path.insert(0, {here!r})
import helpers
from poolwatch import Pool
if __name__ == "__main__":
    before = termios.tcgetattr(0)
    print("BEFORE", flush=True)
    with Pool(2) as pool:
        results = pool.map(helpers.sleepy, range(100000))
    after = termios.tcgetattr(0)
    print("AFTER", len(results) < 100000, before == after, flush=True)
"""


def read_until(fd, needle, timeout):
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


def test_the_dashboard_shows_t_ends_the_map_and_the_terminal_is_restored(tmp_path, marker):
    script = tmp_path / "dash.py"
    script.write_text(DASHBOARD_SCRIPT.format(here=HERE))
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, str(script)])
    try:
        out = read_until(fd, b"BEFORE", 30)
        out += read_until(fd, b"\x1b[?1049h", 30)  # the alternate screen: the dashboard
        assert b"\x1b[?1049h" in out, out[-2000:]
        out += read_until(fd, b"exec", 30)
        time.sleep(1.0)
        os.write(fd, b"t")
        out += read_until(fd, b"AFTER", 60)
        assert b"\x1b[?1049l" in out  # the alternate screen left
        tail = out[out.rindex(b"AFTER"):]
        out += read_until(fd, b"\n", 5)
        assert b"AFTER True True" in out[out.rindex(b"AFTER"):], tail
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert_none_left(marker)


def test_in_a_pipe_only_the_scripts_own_output(tmp_path):
    example = os.path.join(ROOT, "examples", "python", "article_example_2.py")
    started = time.monotonic()
    done = subprocess.run([sys.executable, example], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b""
    assert b"\x1b" not in done.stderr
    assert time.monotonic() - started < 60


def test_the_articles_examples_run_with_only_the_import_changed():
    for number, expect in ((1, b"49999\n"), (3, b"")):
        example = os.path.join(ROOT, "examples", "python", f"article_example_{number}.py")
        done = subprocess.run([sys.executable, example], capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.endswith(expect)
        if number == 1:
            assert done.stdout.split() == [str(i).encode() for i in range(50000)]


def test_runs_at_the_same_time_and_functions_side_by_side():
    with Pool(2, dashboard=False) as pool:
        first = pool.map_async(helpers.square, range(3000))
        second = pool.starmap_async(helpers.add, [(i, 1) for i in range(3000)])
        applied = [pool.apply_async(helpers.square, (i,)) for i in range(100)]
        added = [pool.apply_async(helpers.add, (i, i)) for i in range(100)]
        assert first.get(60) == [i * i for i in range(3000)]
        assert second.get(60) == [i + 1 for i in range(3000)]
        assert [r.get(60) for r in applied] == [i * i for i in range(100)]
        assert [r.get(60) for r in added] == [2 * i for i in range(100)]


QUIET_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import helpers
from poolwatch import Pool
if __name__ == "__main__":
    with Pool(2, dashboard={dashboard}) as pool:
        print(sum(pool.map(helpers.sleepy, range(1200))))
"""


@pytest.mark.parametrize("dashboard", ["None", "False"])
def test_not_in_a_terminal_no_escape_sequences_and_dashboard_false_is_silent(tmp_path, dashboard):
    script = tmp_path / "quiet.py"
    script.write_text(QUIET_SCRIPT.format(here=HERE, dashboard=dashboard))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"%d\n" % sum(range(1200))
    assert b"\x1b" not in done.stderr
    if dashboard == "False":
        assert done.stderr == b""
    else:
        # a run over 5 s prints poolwatch's plain progress line; shorter ones print nothing
        assert all(line.startswith(b"exec") for line in done.stderr.splitlines()), done.stderr
