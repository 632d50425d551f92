"""The worker process of a `poolwatch.Pool` run (`python -m poolwatch._worker`).

poolwatch (`exec --worker`) starts one per pool worker and writes it one input line per
task on stdin: `SEQ N` (the function's argument is the integer N) or `SEQ pBASE64`
(a pickle of the argument, of the argument tuple for starmap, of `(args, kwds)` for
apply). For each input the worker:

1. calls the function, which it imported by reference (module and qualified name, as
   multiprocessing does; a function of the caller's script comes from the script,
   imported under the name `__mp_main__`, as multiprocessing's spawn does);
2. sends the return value, pickled whole, or the exception with its traceback text, to
   the caller over the run's Unix socket (`POOLWATCH_PY_SOCKET`);
3. answers poolwatch on stdout, after the caller has the result: `1` for a truthy return
   value (a match, which poolwatch's halt rules count), `0` otherwise, `e Type: message`
   for an exception.

`print()` in the function goes to stderr (fd 1 is pointed at fd 2; answers go to a copy of
the original stdout), so it never corrupts the answers. Standard library only.
"""

import binascii
import io
import json
import os
import pickle
import signal
import struct
import sys
import time
import types

# The C modules under socket and threading: their Python layers (an enum per socket
# constant family, for one) are a tenth of a worker's start-up, and only a socket and one
# thread are needed.
import _socket
import _thread

READ_SIZE = 1 << 16
FLUSH_EVERY = 0.001
_DIGITS = b"0123456789- \n"
_BOOL_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _load_main(path):
    """Imports the caller's script as `__mp_main__` and aliases it as `__main__` (spawn's way).

    A plain script is compiled and run here, as `runpy.run_path` would run it (whose import is
    a fifth of a worker's start-up); a folder or a zip file goes through runpy."""
    module = types.ModuleType("__mp_main__")
    sys.modules["__mp_main__"] = sys.modules["__main__"] = module
    module.__file__ = path
    module.__builtins__ = __builtins__
    try:
        with open(path, "rb") as handle:
            source = handle.read()
        code = compile(source, path, "exec", dont_inherit=True)
    except (OSError, SyntaxError, ValueError):
        code = None  # not a plain script (a folder, a zip file): runpy knows those
    if code is not None:
        module.__cached__ = None
        module.__loader__ = None
        module.__package__ = None
        exec(code, module.__dict__)  # noqa: S102 - the caller's own script, as spawn runs it
        return
    import runpy

    namespace = runpy.run_path(path, run_name="__mp_main__")
    module.__dict__.update(namespace)


def _load_main_module(name):
    """The caller ran `python -m NAME`: import NAME as `__mp_main__`, aliased as `__main__`."""
    import runpy

    module = types.ModuleType("__mp_main__")
    sys.modules["__mp_main__"] = sys.modules["__main__"] = module
    module.__dict__.update(runpy.run_module(name, run_name="__mp_main__", alter_sys=False))


class _Main:
    """The caller's `__main__`, imported only when a pickle names it (as spawn would)."""

    prep = {}
    loaded = False

    @classmethod
    def load(cls):
        if cls.loaded:
            return
        cls.loaded = True
        from poolwatch import _pool

        _pool._BOOTSTRAPPING = True
        try:
            if cls.prep.get("main_module"):
                _load_main_module(cls.prep["main_module"])
            elif cls.prep.get("main_path"):
                _load_main(cls.prep["main_path"])
        finally:
            _pool._BOOTSTRAPPING = False


def _unpickle(data):
    if not _Main.loaded and b"__main__" in data:
        _Main.load()
    return pickle.loads(data)


def _one_line(text):
    return " ".join(str(text).split())[:500]


class _Sender:
    """Frames (4-byte length, pickle) to the caller; a lost caller ends poolwatch's run."""

    def __init__(self, path):
        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            self.sock.connect(path)
        except OSError:
            _caller_gone()
        _thread.start_new_thread(self._watch, ())

    def _watch(self):
        # The caller never writes: an end of file means it is gone (even by SIGKILL).
        try:
            while self.sock.recv(64):
                pass
        except OSError:
            pass
        _caller_gone()

    def send(self, obj):
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.sock.sendall(struct.pack("<I", len(data)) + data)
        except OSError:
            _caller_gone()


def _caller_gone():
    """The caller died: stop poolwatch (our parent), which cancels the tasks in flight and
    kills this worker. Exiting first would make them errors, which a resume would not rerun."""
    try:
        os.kill(os.getppid(), signal.SIGTERM)
        time.sleep(30)
    finally:
        os._exit(1)


class _Failure:
    __slots__ = ("exc", "tb")

    def __init__(self, exc, tb):
        self.exc = exc
        self.tb = tb


def _consecutive(seqs):
    """seqs as a range when they are consecutive (they pickle in a few bytes)."""
    if seqs and seqs[-1] - seqs[0] == len(seqs) - 1 and seqs == list(range(seqs[0], seqs[-1] + 1)):
        return range(seqs[0], seqs[-1] + 1)
    return seqs


def _parse_range(data, offset):
    """(seqs, payloads) of a burst of integer lines (`--range`: the task is value - offset)."""
    numbers = json.loads(b"[" + data.replace(b"\n", b",") + b"]")
    if numbers and numbers[-1] - numbers[0] == len(numbers) - 1:
        seqs = _consecutive([n - offset for n in numbers]) if offset else _consecutive(numbers)
    else:
        seqs = [n - offset for n in numbers]
    return seqs, numbers, True


def _parse(data):
    """(seqs, payloads) of a burst of whole lines (without the last newline)."""
    if not data.translate(None, _DIGITS):
        try:
            flat = json.loads(b"[" + data.replace(b"\n", b",").replace(b" ", b",") + b"]")
            if len(flat) == 2 * (data.count(b"\n") + 1):
                return _consecutive(flat[0::2]), flat[1::2], True
        except ValueError:
            pass
    seqs = []
    payloads = []
    for line in data.split(b"\n"):
        seq, _, payload = line.partition(b" ")
        seqs.append(int(seq))
        if payload[:1] == b"p":
            payloads.append(_unpickle(binascii.a2b_base64(payload[1:])))
        else:
            payloads.append(int(payload))
    return seqs, payloads, False


def _caller(func, mode):
    """A function of one payload that calls func the way the run's method does."""
    if mode == "map":
        return func
    if mode == "star":
        return lambda args: func(*args)

    def apply(payload):
        if isinstance(payload, tuple):
            args, kwds = payload
            return func(*args, **kwds)
        return func(payload)

    return apply


def _answer(value):
    if isinstance(value, _Failure):
        return ("e " + _one_line(type(value.exc).__name__ + ": " + str(value.exc))).encode()
    try:
        return b"1" if value else b"0"
    except Exception:  # noqa: BLE001 - a value without a truth value is a miss
        return b"0"


class _Worker:
    def __init__(self, spec, sender, answer_fd):
        self.call = _caller(spec["func"], spec["mode"])
        self.sender = sender
        self.answer_fd = answer_fd
        self.done = 0

    def _call_all(self, payloads, start, stop):
        results = []
        items = iter(payloads[start:stop])
        call = self.call
        failed = False
        while True:
            try:
                results.extend(map(call, items))
                return results, failed
            except Exception as exc:  # noqa: BLE001 - every failure goes back to the caller
                import traceback  # only when a task fails: its import is most of a worker's

                results.append(_Failure(exc, traceback.format_exc()))
                failed = True

    def _flush(self, seqs, results, failed):
        failures = {}
        values = results
        if failed:
            values = list(results)
            for position, value in enumerate(results):
                if type(value) is _Failure:
                    values[position] = None
                    try:
                        exc = pickle.dumps(value.exc)
                    except Exception:  # noqa: BLE001 - an unpicklable exception: its text
                        exc = None
                    failures[position] = (exc, type(value.exc).__name__, str(value.exc), value.tb)
        try:
            self.sender.send((seqs, values, failures))
        except Exception as exc:  # noqa: BLE001 - an unpicklable value, one by one
            for position, value in enumerate(values):
                if position in failures:
                    continue
                try:
                    pickle.dumps(value)
                except Exception as err:  # noqa: BLE001
                    values[position] = None
                    failures[position] = (None, type(err).__name__, str(err), "")
            del exc
            self.sender.send((seqs, values, failures))
        # poolwatch hears of a task only once the caller has its result.
        if all(map(bool.__instancecheck__, results)):
            count = len(results)
            out = bytearray(2 * count)
            out[0::2] = bytes(results).translate(_BOOL_DIGITS)
            out[1::2] = b"\n" * count
        else:
            out = b"\n".join([_answer(value) for value in results]) + b"\n"
        view = memoryview(out)
        while view:
            view = view[os.write(self.answer_fd, view) :]

    def work(self, seqs, payloads):
        """Runs a burst in slices that double, flushing at least every FLUSH_EVERY."""
        start = 0
        size = 1
        last = time.monotonic()
        begin = 0
        pending = []
        pending_failed = False
        total = len(payloads)
        while start < total:
            stop = min(total, start + size)
            results, failed = self._call_all(payloads, start, stop)
            pending.extend(results)
            pending_failed |= failed
            start = stop
            now = time.monotonic()
            if now - last >= FLUSH_EVERY or start == total:
                self._flush(seqs[begin:start], pending, pending_failed)
                begin = start
                pending = []
                pending_failed = False
                last = now
            size *= 2
        self.done += total


def _restart(rest, answer_fd):
    """maxtasksperchild: a fresh interpreter in this process (poolwatch sees the same pid)."""
    os.dup2(answer_fd, 1)
    env = dict(os.environ)
    env["POOLWATCH_PY_REST"] = binascii.b2a_base64(rest, newline=False).decode()
    sys.stdout.flush()
    sys.stderr.flush()
    flags = ["-S"] if sys.flags.no_site else []
    os.execve(sys.executable, [sys.executable, *flags, "-m", "poolwatch._worker"], env)


def main():
    spec_path = os.environ["POOLWATCH_PY_SPEC"]
    with open(spec_path + ".path", "rb") as handle:
        prep = pickle.load(handle)
    sys.path[:] = prep["sys_path"]
    if sys.flags.no_site:
        # Started with -S (see _pool._worker_python): what site would have done that matters.
        import site

        site.setquit()
        for name in prep.get("site_modules", ()):
            try:
                __import__(name)
            except Exception:  # noqa: BLE001 - as site: a broken customisation is not fatal
                pass
    # Answers go to a copy of stdout; fd 1 (and sys.stdout) become stderr.
    answer_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sender = _Sender(os.environ["POOLWATCH_PY_SOCKET"])
    _Main.prep = prep
    with open(spec_path, "rb") as handle:
        spec_bytes = handle.read()
    if b"__main__" in spec_bytes:
        _Main.load()
    spec = pickle.loads(spec_bytes)
    if spec.get("initializer") is not None:
        spec["initializer"](*spec.get("initargs", ()))
    worker = _Worker(spec, sender, answer_fd)
    limit = spec.get("maxtasksperchild")
    offset = spec.get("offset")
    rest = binascii.a2b_base64(os.environ.pop("POOLWATCH_PY_REST", ""))
    try:
        while True:
            end = rest.rfind(b"\n")
            if end < 0:
                chunk = os.read(0, READ_SIZE)
                if not chunk:
                    break
                rest += chunk
                continue
            data, rest = rest[:end], rest[end + 1 :]
            if limit:
                room = limit - worker.done
                lines = data.split(b"\n")
                if len(lines) > room:
                    rest = b"\n".join(lines[room:]) + b"\n" + rest
                    data = b"\n".join(lines[:room])
            if offset is None:
                seqs, payloads, _ = _parse(data)
            else:
                seqs, payloads, _ = _parse_range(data, offset)
            worker.work(seqs, payloads)
            if limit and worker.done >= limit:
                _restart(rest, answer_fd)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
