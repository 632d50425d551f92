# The article's third example in Python 3, with only the import changed
# (was: from multiprocessing import Pool).
from poolwatch import Pool
import queue
import threading
import time


def test(p):
    time.sleep(0.001)
    if p == 10000:
        return True
    else:
        return False


if __name__ == "__main__":
    result = queue.Queue()
    pool = Pool()

    def pool_th():
        for i in range(50000000):
            try:
                result.put(pool.apply_async(test, args=(i,)))
            except:
                break

    def result_th():
        while 1:
            a = result.get().get()
            if a:
                pool.terminate()
                break

    t1 = threading.Thread(target=pool_th)
    t2 = threading.Thread(target=result_th)
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    pool.join()
