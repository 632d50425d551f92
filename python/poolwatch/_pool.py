"""`poolwatch.Pool`: multiprocessing.Pool's API, run by the poolwatch binary.

Each map-like call (`map`, `imap`, `imap_unordered`, `starmap` and their `_async` forms) is
one poolwatch run: `poolwatch ... exec --worker -- PYTHON -m poolwatch._worker`, its task
lines written lazily on poolwatch's stdin by a feeder thread (so an iterable is read only
as workers need it), its results (pickled return values, or exceptions with their
traceback text) sent back by the workers over a Unix socket. `apply` and `apply_async`
share one such run per function for the pool's life (until `close` and the last task, or
`terminate`). poolwatch's halt rules see a truthy return value as a match.
"""

import atexit
import base64
import collections
import itertools
import json
import os
import pickle
import signal
import socket
import struct
import sys
import threading
import time
import types
import weakref
from multiprocessing import TimeoutError  # noqa: A004 - the same class as multiprocessing's

# shutil, subprocess, sysconfig and tempfile are imported where a run starts or ends, not
# here: a worker process imports this module whenever the caller's script imports poolwatch
# (it is imported as the worker's __main__), and needs none of them.

__all__ = ["Pool", "AsyncResult", "MapResult", "Halted", "PoolError", "RemoteTraceback", "binary"]

# Set by a worker process while it imports the caller's script (a Pool made then is a bug).
_BOOTSTRAPPING = False
# Tasks queued by apply_async beyond which it waits for poolwatch to take some (memory bound).
MAX_PENDING = 100_000
# Largest burst of task lines written to poolwatch at once, and the longest a line waits.
FEED_LINES = 1024
FEED_WAIT = 0.005
# Time poolwatch gets to stop its workers after SIGTERM before it is killed.
TERMINATE_GRACE = 10.0


class Halted(Exception):
    """The task never ran: its run halted first (a halt rule, the dashboard's `t` or `q`,
    `terminate()`)."""


class PoolError(RuntimeError):
    """poolwatch could not run the tasks (bad arguments, a worker that cannot start, ...)."""


class RemoteTraceback(Exception):
    """The worker's traceback text: the `__cause__` of an exception raised again here."""

    def __init__(self, tb):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return self.tb


def binary():
    """The poolwatch executable: $POOLWATCH_BIN, the one installed beside this Python, or PATH's."""
    path = os.environ.get("POOLWATCH_BIN")
    if path:
        return path
    import shutil
    import sysconfig

    for scripts in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(scripts, "poolwatch")
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("poolwatch")
    if found:
        return found
    raise PoolError("the poolwatch binary is not installed: `pip install .` at the repository root, or set POOLWATCH_BIN")


def _has_terminal():
    try:
        if not os.isatty(sys.stdout.fileno()):
            return False
        with open("/dev/tty", "rb"):
            return True
    except (OSError, ValueError, AttributeError):
        return False


def _main_prep():
    """How a worker finds the caller's `__main__` (multiprocessing spawn's preparation data)."""
    main = sys.modules.get("__main__")
    prep = {
        "sys_path": list(sys.path),
        "main_path": None,
        "main_module": None,
        # Imported by site at start-up here: a worker started without site imports them itself.
        "site_modules": [name for name in ("sitecustomize", "usercustomize") if name in sys.modules],
    }
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in ("__main__", "__mp_main__"):
        name = spec.name
        if name.endswith(".__main__"):
            name = name[: -len(".__main__")]
        prep["main_module"] = name
    else:
        path = getattr(main, "__file__", None)
        if path and not path.startswith("<") and os.path.exists(path):
            prep["main_path"] = os.path.abspath(path)
    return prep


# Import machinery of a plain interpreter (and setuptools' distutils shim, a .pth file's).
_STANDARD_IMPORTERS = ("_frozen_importlib", "_frozen_importlib_external", "zipimport", "_distutils_hack")


def _worker_python():
    """The worker's interpreter and its flags. Workers start without the `site` module (`-S`)
    when the caller's imports need nothing of it but sys.path, which they copy: site's
    start-up (its .pth files, which may import packages) is most of a bare interpreter's.
    An import hook a .pth file installed (an editable install's finder, say) keeps site."""
    for hook in list(sys.meta_path) + list(sys.path_hooks):
        if getattr(hook, "__module__", None) not in _STANDARD_IMPORTERS:
            return [sys.executable]
    return [sys.executable, "-S"]


def _rebuild(failure):
    """The exception a task raised, with the worker's traceback as its cause."""
    exc_bytes, type_name, message, tb = failure
    exc = None
    if exc_bytes is not None:
        try:
            exc = pickle.loads(exc_bytes)
        except Exception:  # noqa: BLE001 - an exception that cannot be rebuilt: its text
            exc = None
    if not isinstance(exc, BaseException):
        exc = PoolError(f"{type_name}: {message}")
    if tb:
        exc.__cause__ = RemoteTraceback('\n"""\n' + tb + '"""')
    return exc


class _Failure:
    """A task's exception, kept in place of its result."""

    __slots__ = ("failure",)

    def __init__(self, failure):
        self.failure = failure


_live_runs = weakref.WeakSet()


def _kill_all():
    for run in list(_live_runs):
        run.terminate()


atexit.register(_kill_all)


class _Run:
    """One poolwatch process, its feeder thread and its result reader thread."""

    _dashboard_lock = threading.Lock()
    _dashboard_busy = False

    def __init__(self, pool, func, mode, sink, *, halt, log, resume, dashboard, total, span=None):
        self.sink = sink
        self.fed = 0
        self.feed_done = False
        self.feed_error = None
        self.ended = threading.Event()
        self.summary = None
        self.returncode = None
        self.terminated = False
        self.stderr_lines = []
        import shutil
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="poolwatch-py-")
        try:
            self._start(pool, func, mode, halt, log, resume, dashboard, total, span)
        except BaseException:
            shutil.rmtree(self.dir, ignore_errors=True)
            raise
        _live_runs.add(self)

    def _start(self, pool, func, mode, halt, log, resume, dashboard, total, span):
        spec = {
            "func": func,
            "mode": mode,
            "initializer": pool._initializer,
            "initargs": pool._initargs,
            "maxtasksperchild": pool._maxtasksperchild,
            # --range A..B: the task lines are the integers themselves, task = value - A.
            "offset": span[0] if span else None,
        }
        spec_path = os.path.join(self.dir, "spec")
        data = pickle.dumps(spec)  # a function that cannot be pickled fails here, as with multiprocessing
        with open(spec_path, "wb") as handle:
            handle.write(data)
        with open(spec_path + ".path", "wb") as handle:
            pickle.dump(_main_prep(), handle)
        sock_path = os.path.join(self.dir, "s")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(sock_path)
        self.listener.listen(512)
        self.progress = dashboard is not False
        if dashboard is None or dashboard:
            dashboard = _has_terminal()
        with _Run._dashboard_lock:
            if dashboard and _Run._dashboard_busy:
                dashboard = False  # one dashboard per terminal: this run goes headless
            if dashboard:
                _Run._dashboard_busy = True
        self.dashboard = bool(dashboard)
        args = [binary()]
        args += ["--start", "--quit-when-done"] if self.dashboard else ["--headless", "--json"]
        self.resumed = bool(resume)
        if resume:
            args += ["--resume", os.fspath(resume)]
        else:
            halt = str(halt or "never")
            if getattr(self.sink, "ordered", False) and halt == "now":
                # In order, results must run up to the match with none missing: the lowest
                # match, every task below it run (tasks above it are cancelled at once).
                halt = "lowest"
            args += ["-w", str(pool._processes), "--halt", halt]
            if log:
                args += ["--log", os.fspath(log)]
            args += ["exec", "--worker"]
            if span:
                args += ["--range", f"{span[0]}..{span[1]}"]
            elif total is not None:
                args += ["--total", str(total)]
            args += ["--", *_worker_python(), "-m", "poolwatch._worker"]
        env = dict(os.environ)
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["POOLWATCH_PY_SPEC"] = spec_path
        env["POOLWATCH_PY_SOCKET"] = sock_path
        import subprocess

        try:
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL if span else subprocess.PIPE,
                stdout=None if self.dashboard else subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                bufsize=0,
            )
        except BaseException:
            self._release_dashboard()
            raise
        self.stdout_data = b""
        self._threads = []
        if not self.dashboard:
            self._spawn(self._read_stdout)
        self._spawn(self._read_stderr)
        self._reader = self._spawn(self._read_results)

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True, name="poolwatch-" + target.__name__)
        thread.start()
        self._threads.append(thread)
        return thread

    def _release_dashboard(self):
        if self.dashboard:
            with _Run._dashboard_lock:
                _Run._dashboard_busy = False

    # ---- feeding -------------------------------------------------------------------------

    def feed(self, chunks):
        """Writes the byte chunks of `chunks` (an iterator) to poolwatch on a thread."""
        self._spawn(self._feed, chunks)

    def _feed(self, chunks):
        stdin = self.proc.stdin
        try:
            for chunk in chunks:
                stdin.write(chunk)
        except (BrokenPipeError, ConnectionResetError, ValueError, OSError):
            pass
        except BaseException as exc:  # noqa: BLE001 - the iterable raised: the caller hears it
            self.feed_error = exc
        finally:
            self.feed_done = True
            try:
                stdin.close()
            except OSError:
                pass
            self.sink.wake()

    # ---- results -------------------------------------------------------------------------

    def _read_stdout(self):
        self.stdout_data = self.proc.stdout.read()

    def _read_stderr(self):
        quiet = not self.progress
        for line in self.proc.stderr:
            text = line.decode("utf-8", "replace").rstrip("\n")
            if text.startswith("poolwatch:") or text.startswith("error") or "panicked" in text:
                self.stderr_lines.append(text)
                del self.stderr_lines[:-20]
            elif not quiet:
                try:
                    sys.stderr.write(text + "\n")
                    sys.stderr.flush()
                except (OSError, ValueError, AttributeError):
                    pass

    def _read_results(self):
        import selectors

        selector = selectors.DefaultSelector()
        self.listener.setblocking(False)
        selector.register(self.listener, selectors.EVENT_READ, None)
        # poolwatch's exit wakes the loop at once where the system gives a pidfd (Linux 5.3,
        # Python 3.9); elsewhere the loop looks every 50 ms.
        exit_fd = None
        try:
            exit_fd = os.pidfd_open(self.proc.pid)
            selector.register(exit_fd, selectors.EVENT_READ, "exit")
        except (AttributeError, OSError):
            exit_fd = None
        buffers = {}
        exited_at = None
        while True:
            events = selector.select(timeout=0.05)
            for key, _ in events:
                if key.data is None:
                    self._accept(selector, buffers)
                elif key.data == "exit":
                    selector.unregister(exit_fd)
                else:
                    self._receive(selector, key.fileobj, buffers)
            if self.proc.poll() is not None:
                if exited_at is None:
                    exited_at = time.monotonic()
                    self._accept(selector, buffers)
                # Every worker is gone once poolwatch has exited: read what they left.
                if not buffers or time.monotonic() - exited_at > 5.0:
                    break
        selector.close()
        if exit_fd is not None:
            os.close(exit_fd)
        self.listener.close()
        for conn in list(buffers):
            conn.close()
        self._finish()

    def _accept(self, selector, buffers):
        import selectors

        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, OSError):
                return
            conn.setblocking(False)
            buffers[conn] = bytearray()
            selector.register(conn, selectors.EVENT_READ, True)

    def _receive(self, selector, conn, buffers):
        try:
            data = conn.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        buf = buffers[conn]
        if not data:
            selector.unregister(conn)
            conn.close()
            del buffers[conn]
            return
        buf += data
        start = 0
        while len(buf) - start >= 4:
            (size,) = struct.unpack_from("<I", buf, start)
            if len(buf) - start - 4 < size:
                break
            seqs, values, failures = pickle.loads(memoryview(buf)[start + 4 : start + 4 + size])
            start += 4 + size
            self.sink.batch(seqs, values, failures)
        if start:
            del buf[:start]

    def _finish(self):
        self.returncode = self.proc.wait()
        for thread in self._threads:
            if thread is not threading.current_thread() and thread.name != "poolwatch-_feed":
                thread.join(timeout=5)
        self._release_dashboard()
        if self.stdout_data:
            try:
                self.summary = json.loads(self.stdout_data.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                self.summary = None
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)
        self.ended.set()
        _live_runs.discard(self)
        self.sink.end(self)

    # ---- the end -------------------------------------------------------------------------

    @property
    def halt_reason(self):
        if self.summary:
            return self.summary.get("halt_reason")
        if self.returncode in (128 + signal.SIGINT, -signal.SIGINT):
            return "signal"
        if self.returncode == 2:
            return "fatal"
        return None

    def error(self):
        """The exception the caller should see for the run's end, or None."""
        if self.terminated:
            return None
        code = self.returncode
        reason = self.halt_reason
        if code in (130, -signal.SIGINT):
            return KeyboardInterrupt()  # Ctrl-C (in the dashboard, or SIGINT to poolwatch)
        if reason == "signal" or (code is not None and code > 128):
            return PoolError(f"poolwatch was stopped by a signal (exit status {code})")
        if reason == "fatal" or code not in (0, 1):
            message = "; ".join(self.stderr_lines) or f"poolwatch exited with status {code}"
            if self.summary and self.summary.get("fatal"):
                message = "poolwatch: " + self.summary["fatal"]
            return PoolError(message)
        return None

    def halt(self):
        """Stops the run now (SIGTERM to poolwatch, which stops its workers), and waits."""
        self.terminated = True
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
            import subprocess

            try:
                self.proc.wait(TERMINATE_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if threading.current_thread() is not self._reader:
            self.ended.wait(TERMINATE_GRACE)

    terminate = halt


# ---- what a run's results go to -----------------------------------------------------------


class _Sink:
    def __init__(self):
        self.cond = threading.Condition()

    def wake(self):
        with self.cond:
            self.cond.notify_all()


class _MapSink(_Sink):
    """Results of a map-like run, for an iterator that yields them in order or as completed."""

    def __init__(self, ordered):
        super().__init__()
        self.ordered = ordered
        self.results = {}
        self.batches = collections.deque()
        self.failed = False
        self.run = None
        self.ended = False

    def batch(self, seqs, values, failures):
        with self.cond:
            if self.ordered:
                self.results.update(zip(seqs, values))
                for position, failure in failures.items():
                    self.results[seqs[position]] = _Failure(failure)
                    self.failed = True
            else:
                self.batches.append((values, failures))
            self.cond.notify_all()

    def end(self, run):
        with self.cond:
            self.ended = True
            self.cond.notify_all()


_MISSING = object()


class IMapIterator:
    """What `imap` and `imap_unordered` return: results in order, or as they complete."""

    def __init__(self, pool, run, sink):
        self._pool = pool
        self._run = run
        self._sink = sink
        self._index = 0
        self._ready = collections.deque()

    def __iter__(self):
        return self._generate()

    def _generate(self):
        # A for loop takes results a burst at a time (`yield from` a list runs in C).
        ready = self._ready
        while True:
            if ready:
                yield self._deliver(ready.popleft())
                continue
            try:
                items, failed = self._take(None)
            except StopIteration:
                return
            if failed:
                ready.extend(items)
            else:
                yield from items

    def __next__(self):
        return self.next()

    def next(self, timeout=None):  # noqa: A003 - multiprocessing's name
        if not self._ready:
            items, _ = self._take(timeout)
            self._ready.extend(items)
        return self._deliver(self._ready.popleft())

    def _take(self, timeout):
        """The results ready now (waiting for at least one), and whether any is a failure."""
        deadline = None if timeout is None else time.monotonic() + timeout
        sink = self._sink
        run = self._run
        with sink.cond:
            if sink.ordered:
                results = sink.results
                while True:
                    out = []
                    index = self._index
                    while True:
                        value = results.pop(index, _MISSING)
                        if value is _MISSING:
                            if sink.ended and index < run.fed and run.resumed:
                                index += 1  # done before the resume: its result is not here
                                continue
                            if sink.ended and index < run.fed:
                                # Never ran (a halt): the results end here, in order. A task
                                # that failed after the gap (a halt on failures) still raises.
                                failures = sorted(i for i, v in results.items() if isinstance(v, _Failure))
                                if failures:
                                    out.append(results.pop(failures[0]))
                                index = run.fed
                            break
                        out.append(value)
                        index += 1
                    self._index = index
                    if out:
                        return out, sink.failed
                    if sink.ended:
                        self._stop()
                    self._wait(deadline)
            while not sink.batches:
                if sink.ended:
                    self._stop()
                self._wait(deadline)
            values, failures = sink.batches.popleft()
        if failures:
            values = list(values)
            for position, failure in failures.items():
                values[position] = _Failure(failure)
            return values, True
        return values, False

    def _wait(self, deadline):
        if deadline is None:
            self._sink.cond.wait()
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self._sink.cond.wait(left)

    def _deliver(self, value):
        if type(value) is _Failure:
            raise _rebuild(value.failure)
        return value

    def _stop(self):
        run = self._run
        self._pool._forget(run)
        if run.feed_error is not None:
            error, run.feed_error = run.feed_error, None
            raise error
        error = run.error()
        if error is not None:
            raise error
        raise StopIteration

    def _abandon(self):
        """The caller stops reading: stop the run."""
        self._run.halt()


# One condition for every AsyncResult (a threading.Event each would cost ~1 KB a task).
_RESULTS = threading.Condition()


class ApplyResult:
    """multiprocessing's AsyncResult: `get`, `wait`, `ready`, `successful`."""

    __slots__ = ("_done", "_success", "_value", "_callback", "_error_callback")

    def __init__(self, callback=None, error_callback=None):
        self._done = False
        self._success = None
        self._value = None
        self._callback = callback
        self._error_callback = error_callback

    def ready(self):
        return self._done

    def successful(self):
        if not self._done:
            raise ValueError(f"{self!r} not ready")
        return self._success

    def wait(self, timeout=None):
        if self._done:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        with _RESULTS:
            while not self._done:
                if deadline is None:
                    _RESULTS.wait()
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    _RESULTS.wait(left)

    def get(self, timeout=None):
        self.wait(timeout)
        if not self._done:
            raise TimeoutError
        if self._success:
            return self._value
        raise self._value

    def _set(self, success, value, notify=True):
        self._success = success
        self._value = value
        try:
            if success and self._callback is not None:
                self._callback(value)
            elif not success and self._error_callback is not None:
                self._error_callback(value)
        finally:
            self._done = True
            if notify:
                with _RESULTS:
                    _RESULTS.notify_all()


AsyncResult = ApplyResult


class MapResult(ApplyResult):
    """The AsyncResult of `map_async` / `starmap_async`: the list of results."""


class _StreamSink(_Sink):
    """The run behind `apply`/`apply_async` for one function: tasks queued, then fed."""

    def __init__(self):
        super().__init__()
        self.queue = collections.deque()
        self.waiting = {}
        self.closed = False
        self.next_seq = 0
        self.run = None
        self.ended = False

    def submit(self, payload, result, pool):
        with self.cond:
            while len(self.queue) >= MAX_PENDING and not self.ended and pool._state == "RUN":
                self.cond.wait(0.1)
            if pool._state != "RUN":
                raise ValueError("Pool not running")
            if self.ended:
                return False
            seq = self.next_seq
            self.next_seq += 1
            self.waiting[seq] = result
            self.queue.append(_encode_line(seq, payload, "apply"))
            if len(self.queue) == 1:
                self.cond.notify_all()
        return True

    def chunks(self):
        while True:
            with self.cond:
                while not self.queue and not self.closed and not self.ended:
                    self.cond.wait()
                if not self.queue:
                    return
                lines = []
                while self.queue and len(lines) < FEED_LINES:
                    lines.append(self.queue.popleft())
                self.run.fed = self.next_seq - len(self.queue)
                self.cond.notify_all()
            yield b"".join(lines)

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def batch(self, seqs, values, failures):
        with self.cond:
            results = [self.waiting.pop(seq, None) for seq in seqs]
        for position, (result, value) in enumerate(zip(results, values)):
            if result is None:
                continue
            if position in failures:
                result._set(False, _rebuild(failures[position]), notify=False)
            else:
                result._set(True, value, notify=False)
        with _RESULTS:
            _RESULTS.notify_all()

    def end(self, run):
        with self.cond:
            self.ended = True
            waiting, self.waiting = self.waiting, {}
            self.queue.clear()
            self.cond.notify_all()
        error = run.error() or Halted(f"the run halted before this task ran ({run.halt_reason or 'stopped'})")
        for result in waiting.values():
            result._set(False, error)


def _encode_line(seq, payload, mode):
    if type(payload) is int and mode != "star":
        return b"%d %d\n" % (seq, payload)
    return b"%d p%s\n" % (seq, base64.b64encode(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)))


def _encode_batch(seq, items, star):
    """Task lines for items numbered from seq: integers as text, anything else pickled."""
    count = len(items)
    if not star and all(type(item) is int for item in items):
        flat = [0] * (2 * count)
        flat[0::2] = range(seq, seq + count)
        flat[1::2] = items
        return (_FORMATS.get(count) or _format(count)) % tuple(flat)
    b64 = base64.b64encode
    dumps = pickle.dumps
    proto = pickle.HIGHEST_PROTOCOL
    return b"".join(
        b"%d %d\n" % (number, item) if type(item) is int and not star
        else b"%d p%s\n" % (number, b64(dumps(item, protocol=proto)))
        for number, item in zip(range(seq, seq + count), items)
    )


_FORMATS = {}


def _format(count):
    fmt = b"%d %d\n" * count
    if len(_FORMATS) < 64:
        _FORMATS[count] = fmt
    return fmt


def _map_chunks(iterable, mode, run):
    """Task lines for the items of iterable, read lazily, in bursts."""
    star = mode == "star"
    seq = 0
    if isinstance(iterable, (list, tuple, range)):
        # Already whole in memory: slices, no per-item look at the clock.
        size = 16
        while seq < len(iterable):
            items = iterable[seq : seq + size]
            data = _encode_batch(seq, items, star)
            seq += len(items)
            run.fed = seq
            yield data
            size = min(size * 2, FEED_LINES)
        return
    # An iterator: slices that double while the iterator is quick, and halve when it is slow
    # (so a slow generator's items go out without waiting for a full burst).
    iterator = iter(iterable)
    size = 1
    while True:
        started = time.monotonic()
        items = list(itertools.islice(iterator, size))
        if not items:
            return
        data = _encode_batch(seq, items, star)
        seq += len(items)
        run.fed = seq
        yield data
        if time.monotonic() - started < FEED_WAIT:
            size = min(size * 2, FEED_LINES)
        else:
            size = max(1, size // 2)


class Pool:
    """multiprocessing.Pool's API on poolwatch.

    `halt` (poolwatch's `--halt` policy: `now`, `soon`, `after=N`, `now,fail=N`, ...; a truthy
    return value is a match; default `never`), `log` (poolwatch's event log), `resume` (a log
    to continue) and `dashboard` (None: when stdout is a terminal; False: no dashboard and
    no progress line) apply to every run of the pool; the map-like methods take the same
    keywords for one call.
    """

    def __init__(self, processes=None, initializer=None, initargs=(), maxtasksperchild=None, context=None,
                 *, halt=None, log=None, resume=None, dashboard=None):
        if _BOOTSTRAPPING:
            raise RuntimeError(
                "a poolwatch.Pool was made while a worker imported the main script: "
                "put the code that makes the Pool under `if __name__ == '__main__':`"
            )
        if processes is None:
            processes = os.cpu_count() or 1
        if processes < 1:
            raise ValueError("Number of processes must be at least 1")
        if maxtasksperchild is not None and (not isinstance(maxtasksperchild, int) or maxtasksperchild <= 0):
            raise ValueError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._processes = processes
        self._initializer = initializer
        self._initargs = tuple(initargs)
        self._maxtasksperchild = maxtasksperchild
        self._halt = halt
        self._log = log
        self._resume = resume
        self._dashboard = dashboard
        self._state = "RUN"
        self._lock = threading.RLock()
        self._runs = set()
        self._streams = {}
        self.last_summary = None

    # ---- runs ----------------------------------------------------------------------------

    def _check_running(self):
        if self._state != "RUN":
            raise ValueError("Pool not running")

    def _new_run(self, func, mode, sink, halt=None, log=None, resume=None, dashboard=None, total=None, span=None):
        with self._lock:
            self._check_running()
            if resume is None and self._resume is not None:
                resume, self._resume = self._resume, None  # the pool's resume= is for its first run
            run = _Run(
                self, func, mode, sink,
                halt=halt if halt is not None else self._halt,
                log=log if log is not None else self._log,
                resume=resume,
                dashboard=dashboard if dashboard is not None else self._dashboard,
                total=total,
                span=span,
            )
            sink.run = run
            self._runs.add(run)
            return run

    def _forget(self, run):
        with self._lock:
            if run.summary is not None:
                self.last_summary = run.summary
            self._runs.discard(run)

    def _iterate(self, func, iterable, mode, ordered, halt, log, resume, dashboard):
        self._check_running()
        total = len(iterable) if hasattr(iterable, "__len__") else None
        sink = _MapSink(ordered)
        if type(iterable) is range and iterable.step == 1 and len(iterable) and mode == "map":
            # poolwatch makes the integers itself (exec --range): no task lines to write.
            span = (iterable.start, iterable.stop)
            run = self._new_run(func, mode, sink, halt, log, resume, dashboard, total, span)
            run.fed = len(iterable)
            run.feed_done = True
        else:
            run = self._new_run(func, mode, sink, halt, log, resume, dashboard, total)
            run.feed(_map_chunks(iterable, mode, run))
        return IMapIterator(self, run, sink)

    # ---- the API -------------------------------------------------------------------------

    def imap(self, func, iterable, chunksize=1, *, halt=None, log=None, resume=None, dashboard=None):
        """Results in order, as an iterator; the iterable is read lazily."""
        return self._iterate(func, iterable, "map", True, halt, log, resume, dashboard)

    def imap_unordered(self, func, iterable, chunksize=1, *, halt=None, log=None, resume=None, dashboard=None):
        """Results as they complete, as an iterator; the iterable is read lazily."""
        return self._iterate(func, iterable, "map", False, halt, log, resume, dashboard)

    def _collect(self, iterator):
        try:
            return list(iterator)
        except BaseException:
            iterator._abandon()
            raise

    def map(self, func, iterable, chunksize=None, *, halt=None, log=None, resume=None, dashboard=None):
        """The list of func's results on every item, in order."""
        return self._collect(self._iterate(func, iterable, "map", True, halt, log, resume, dashboard))

    def starmap(self, func, iterable, chunksize=None, *, halt=None, log=None, resume=None, dashboard=None):
        """Like map, with each item unpacked as func's arguments."""
        return self._collect(self._iterate(func, iterable, "star", True, halt, log, resume, dashboard))

    def _async(self, func, iterable, mode, callback, error_callback, options):
        iterator = self._iterate(func, iterable, mode, True, *options)
        result = MapResult(callback, error_callback)

        def collect():
            try:
                values = list(iterator)
            except BaseException as exc:  # noqa: BLE001 - the AsyncResult carries it
                iterator._abandon()
                result._set(False, exc)
            else:
                result._set(True, values)

        threading.Thread(target=collect, daemon=True, name="poolwatch-map-async").start()
        return result

    def map_async(self, func, iterable, chunksize=None, callback=None, error_callback=None,
                  *, halt=None, log=None, resume=None, dashboard=None):
        """map as an AsyncResult."""
        return self._async(func, iterable, "map", callback, error_callback, (halt, log, resume, dashboard))

    def starmap_async(self, func, iterable, chunksize=None, callback=None, error_callback=None,
                      *, halt=None, log=None, resume=None, dashboard=None):
        """starmap as an AsyncResult."""
        return self._async(func, iterable, "star", callback, error_callback, (halt, log, resume, dashboard))

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):  # noqa: B006 - multiprocessing's signature
        """func(*args, **kwds) as an AsyncResult; tasks of one function share one poolwatch run."""
        self._check_running()
        payload = args[0] if len(args) == 1 and type(args[0]) is int and not kwds else (tuple(args), dict(kwds))
        result = ApplyResult(callback, error_callback)
        while True:
            with self._lock:
                self._check_running()
                key = _func_key(func)
                sink = self._streams.get(key)
                if sink is None or sink.ended:
                    sink = _StreamSink()
                    run = self._new_run(func, "apply", sink)
                    self._streams[key] = sink
                    run.feed(sink.chunks())
            if sink.submit(payload, result, self):
                return result

    def apply(self, func, args=(), kwds={}):  # noqa: B006 - multiprocessing's signature
        """func(*args, **kwds), waited for."""
        return self.apply_async(func, args, kwds).get()

    def close(self):
        """No more tasks: runs end when their tasks are done."""
        with self._lock:
            if self._state == "RUN":
                self._state = "CLOSE"
            for sink in self._streams.values():
                sink.close()

    def terminate(self):
        """Stops every run now: running tasks are killed, pending ones never run."""
        with self._lock:
            self._state = "TERMINATE"
            runs = list(self._runs)
            for sink in self._streams.values():
                sink.close()
        for run in runs:
            run.halt()
        with self._lock:
            for run in runs:
                self._forget(run)

    def join(self):
        """Waits for every run to end (after close or terminate)."""
        if self._state == "RUN":
            raise ValueError("Pool is still running")
        while True:
            with self._lock:
                runs = [run for run in self._runs if not run.ended.is_set()]
            if not runs:
                break
            for run in runs:
                run.ended.wait()
                self._forget(run)

    def __enter__(self):
        self._check_running()
        return self

    def __exit__(self, *exc):
        self.terminate()

    def __reduce__(self):
        raise NotImplementedError("pool objects cannot be passed between processes or pickled")


def _func_key(func):
    """apply_async's tasks of one function share a run: plain functions by identity, other
    callables (a partial, a callable object) by their pickle."""
    if isinstance(func, (types.FunctionType, types.BuiltinFunctionType)):
        return func
    try:
        return pickle.dumps(func)
    except Exception:  # noqa: BLE001 - unpicklable: the run's start says why
        return id(func)
