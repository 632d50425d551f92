# The article's first example in Python 3, with only the import changed
# (was: from multiprocessing import Pool). Python 3 needs pool.close() before pool.join().
from poolwatch import Pool


def test(p):
    return p


if __name__ == "__main__":
    pool = Pool(processes=10)
    result = []
    for i in range(50000):
        result.append(pool.apply_async(test, args=(i,)))
    pool.close()
    pool.join()
    for i in result:
        print(i.get())
