"""Functions the tests send to workers (importable by reference, as multiprocessing needs)."""

import os
import time

STATE = {"init": None}


def square(x):
    return x * x


def add(a, b):
    return a + b


def kw(a, b=0, *, c=0):
    return (a, b, c)


def identity(x):
    return x


def fails_on_3(x):
    if x == 3:
        raise ValueError(f"bad input {x}")
    return x


def is_target(x):
    return x == 500


def is_even(x):
    return x % 2 == 0


def sleepy(x):
    time.sleep(0.01)
    return x


def sleep_long(x):
    time.sleep(60)
    return x


def chatty(x):
    print("hello from the worker", x)
    print("1")
    os.write(1, b"0\n")
    return x * 2


def init(value):
    STATE["init"] = value
    path = os.environ.get("PWTEST_INIT_FILE")
    if path:
        with open(path, "a") as handle:
            handle.write(f"{os.getpid()}\n")


def read_init(_x):
    return STATE["init"]


def big(x):
    return {"x": x, "blob": b"z" * 100_000, "list": list(range(x))}


class Custom:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Custom) and other.value == self.value


def make_custom(x):
    return Custom(x)


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("no pickling")


def raises_unpicklable(_x):
    raise Unpicklable("cannot travel")


def record(x):
    time.sleep(0.005)
    with open(os.environ["PWTEST_DONE_FILE"], "a") as handle:
        handle.write(f"{x}\n")
    return x
