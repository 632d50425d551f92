"""`python -m poolwatch ARGS...` runs the poolwatch binary installed with this package."""

import os
import sys

from ._pool import binary

if __name__ == "__main__":
    path = binary()
    os.execv(path, [path] + sys.argv[1:])
