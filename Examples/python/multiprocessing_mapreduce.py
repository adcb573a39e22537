# SimpleMapReduce, a small version of the class in Doug Hellmann's "Python 3 Module of the Week",
# repository dhellmann/pymotw-3, file source/multiprocessing/multiprocessing_mapreduce.py
# (https://pymotw.com/3/multiprocessing/mapreduce.html). Same Pool calls and the same
# partitioning; the original's docstrings are left out. Ported in
# Examples/pool-examples/WordCount.swift; walked through in docs/porting.md.
import collections
import itertools
import multiprocessing


class SimpleMapReduce:
    def __init__(self, map_func, reduce_func, num_workers=None):
        self.map_func = map_func
        self.reduce_func = reduce_func
        self.pool = multiprocessing.Pool(num_workers)

    def partition(self, mapped_values):
        # Keys keep the order in which they first appear (a dict's insertion order).
        partitioned_data = collections.defaultdict(list)
        for key, value in mapped_values:
            partitioned_data[key].append(value)
        return partitioned_data.items()

    def __call__(self, inputs, chunksize=1):
        # One file per task, then one task per distinct word: two Pool.map calls.
        map_responses = self.pool.map(self.map_func, inputs, chunksize=chunksize)
        partitioned_data = self.partition(itertools.chain(*map_responses))
        return self.pool.map(self.reduce_func, partitioned_data)
