# apply_async with a callback: the example of the accepted answer to "multiprocessing.Pool: When
# to use apply, apply_async or map?" (Stack Overflow, CC BY-SA,
# https://stackoverflow.com/questions/8533318/multiprocessing-pool-when-to-use-apply-apply-async-or-map),
# with the callback's print of current_process().name as in the repository
# NirmalVatsyayan/python-revision, file language_programs/45_multiprocessing_async.py.
# Changes: the task's time.sleep(2) is left out, and the number of processes may be given on the
# command line (with 1, the callbacks run in submission order, so the output is deterministic).
# Ported in Examples/pool-examples/Callbacks.swift.
import multiprocessing as mp
import sys


def foo_pool(x):
    return x * x


result_list = []


def log_result(result):
    # Called whenever foo_pool(i) returns a result, in the main process (its result-handler
    # thread), never in a worker: result_list is only modified there.
    result_list.append(result)
    print(mp.current_process().name, "  >>  ", result)


def apply_async_with_callback(processes):
    pool = mp.Pool(processes)
    for i in range(10):
        pool.apply_async(foo_pool, args=(i,), callback=log_result)
    pool.close()
    pool.join()
    print(result_list)


if __name__ == "__main__":
    apply_async_with_callback(int(sys.argv[1]) if len(sys.argv) > 1 else None)
