# The article's second example in Python 3, with only the import changed
# (was: from multiprocessing import Pool).
from poolwatch import Pool
import queue
import time


def test(p):
    time.sleep(0.001)
    if p == 10000:
        return True
    else:
        return False


if __name__ == "__main__":
    pool = Pool(processes=10)
    q = queue.Queue()
    for i in range(50000):
        q.put(pool.apply_async(test, args=(i,)))
    while 1:
        if q.get().get():
            pool.terminate()
            break
    pool.join()
