"""poolwatch_worker: turn a Python function into a `poolwatch exec --worker` worker.

Dependency-free (standard library only). Usage:

    from poolwatch_worker import serve

    def test(p):
        return p == 10000

    serve(test)

Run it with `poolwatch exec --worker --range 0..50000 -- python3 this_file.py`.
poolwatch writes one input per line on stdin; `serve` calls the function on each and
writes one answer line per input, in order (the format is in poolwatch's README):

    the function returns   answer line
    True                   1            a match (its value is the input)
    False or None          0            a miss
    an int or a float      1 or 0       its truth (nonzero: a match), as in an `if`
      ... with --goal      s 12.5       a score (a miss that may be a new best)
    a str                  1 TEXT       a match whose value is TEXT
    (raises)               an error: `Type: msg (file:line in func)`, the innermost
                           frame, followed by the last frames of its traceback

The answers have the process's stdout to themselves: `serve` moves it to a private
descriptor and points file descriptor 1 and `sys.stdout` at stderr, so `print()` in the
function (or output of a library it calls) goes to poolwatch's stderr tail, not among the
answers.

Inputs are passed as int when the line is an integer, else as str (`parse=int`,
`parse=str` or any callable taking the line as bytes chooses another way).
Reads and writes go in bursts: a burst of input lines is read at once and its answers
are written with one write, flushed early when the function is slow or finds a match.
"""

import json
import os
import sys
import time
import traceback

__all__ = ["serve", "answer"]

# Frames of a traceback kept in an error's message (the innermost ones).
TRACEBACK_FRAMES = 8
# Answers are flushed at least this often (seconds) while a burst is worked through.
FLUSH_EVERY = 0.001
READ_SIZE = 1 << 16
# Numbers are scores only when poolwatch runs with --goal (it says so in POOLWATCH_GOAL);
# otherwise a number means what it means in an `if`: nonzero is a match.
_SCORES = os.environ.get("POOLWATCH_GOAL") in ("max", "min")
# Where answers are written: fd 1 until `serve` gives them a descriptor of their own.
_answers_fd = 1


class _Failed:
    """The exception a call raised, kept in place of its result."""

    __slots__ = ("exc",)

    def __init__(self, exc):
        self.exc = exc


def _one_line(text):
    return " ".join(str(text).split())[:500]


def answer(result):
    """The answer line (bytes, without its newline) for one result of the function."""
    if result is True:
        return b"1"
    if result is False or result is None:
        return b"0"
    if isinstance(result, _Failed):
        return _error_answer(result.exc)
    if isinstance(result, (int, float)):
        if _SCORES:
            return ("s " + repr(result)).encode()
        return b"1" if result else b"0"
    if isinstance(result, bytes):
        result = result.decode("utf-8", "replace")
    if isinstance(result, str):
        text = _one_line(result)
        return ("1 " + text).encode() if text else b"1"
    return ("e cannot answer with a " + type(result).__name__).encode()


def _error_answer(exc):
    """`Type: msg (file:line in func)` for the innermost frame outside this helper, then the
    last frames of the traceback, one JSON error answer (its message spans lines)."""
    head = _one_line(type(exc).__name__ + ": " + str(exc))
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(frame.filename) != os.path.abspath(__file__)
    ]
    if not frames:
        return ("e " + head).encode()
    last = frames[-1]
    head += " (%s:%s in %s)" % (last.filename, last.lineno, last.name)
    body = "".join(traceback.format_list(frames[-TRACEBACK_FRAMES:])).rstrip("\n")
    lines = ["  " + line for line in body.split("\n")]
    return json.dumps({"error": "\n".join([head, "  Traceback (innermost last):"] + lines)}).encode()


def _auto(line):
    try:
        return int(line)
    except ValueError:
        return line.decode("utf-8", "replace")


_NOT_INT = b"0123456789-\n"


def _parse_all(data, parse):
    """The inputs of a burst of lines (data holds whole lines without the last newline)."""
    if parse is None:
        if not data.translate(None, _NOT_INT):
            # Only digits, minus signs and newlines: JSON's C parser reads integers fastest.
            try:
                numbers = json.loads(b"[" + data.replace(b"\n", b",") + b"]")
                if len(numbers) == data.count(b"\n") + 1:
                    return numbers
            except ValueError:
                pass
        return [_auto(line) for line in data.split(b"\n")]
    lines = data.split(b"\n")
    if parse is str:
        return [line.decode("utf-8", "replace") for line in lines]
    return list(map(parse, lines))


def _call_all(func, inputs):
    """func on every input, in order; a call that raises leaves a _Failed in its place."""
    results = []
    items = iter(inputs)
    while True:
        try:
            results.extend(map(func, items))
            return results
        except Exception as exc:  # noqa: BLE001 - every failure is an answer
            results.append(_Failed(exc))


_BOOL_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _encode(results):
    """Answer lines for results, newline-terminated, as one bytes object."""
    if all(map(bool.__instancecheck__, results)):
        # Only True/False: one byte each (0 or 1), interleaved with newlines.
        count = len(results)
        out = bytearray(2 * count)
        out[0::2] = bytes(results).translate(_BOOL_DIGITS)
        out[1::2] = b"\n" * count
        return out
    return b"\n".join([answer(r) for r in results]) + b"\n"


def _write_all(data):
    view = memoryview(data)
    while view:
        written = os.write(_answers_fd, view)
        view = view[written:]


def _work(func, inputs):
    """Runs a burst: small slices first (doubling), flushing when slow or on a match."""
    start = 0
    size = 1
    last_flush = time.monotonic()
    pending = []
    while start < len(inputs):
        results = _call_all(func, inputs[start : start + size])
        start += len(results)
        pending.append(_encode(results))
        now = time.monotonic()
        if now - last_flush >= FLUSH_EVERY or True in results:
            _write_all(b"".join(pending))
            pending = []
            last_flush = now
        size *= 2
    if pending:
        _write_all(b"".join(pending))


def _own_answer_channel():
    """Moves the answer pipe (fd 1) to a private descriptor and points fd 1 and sys.stdout
    at stderr, so that nothing the function prints can be read as an answer."""
    global _answers_fd
    if _answers_fd != 1:
        return
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):
        pass
    # os.dup's copy is not inherited by processes the function starts.
    _answers_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def serve(func, parse=None):
    """Answers the inputs on stdin with func until stdin ends (or poolwatch stops it)."""
    _own_answer_channel()
    rest = b""
    try:
        while True:
            chunk = os.read(0, READ_SIZE)
            if not chunk:
                break
            data = rest + chunk if rest else chunk
            end = data.rfind(b"\n")
            if end < 0:
                rest = data
                continue
            rest = data[end + 1 :]
            _work(func, _parse_all(data[:end], parse))
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    sys.stdout = None  # poolwatch closed the pipe: exit quietly


if __name__ == "__main__":
    # A demonstration worker: a match on the input 10000.
    serve(lambda p: p == 10000)
