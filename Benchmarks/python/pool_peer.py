#!/usr/bin/env python3
"""CPython peers for pool-bench: the same workloads with multiprocessing.Pool and ThreadPool.

Each command prints one JSON object: {"python": version, "rows": [{peer, items, seconds, note}]},
where `seconds` holds one timing per repeat (a warm-up run is not timed). pool-bench reads it and
puts the rows in its table next to the Swift peers.
"""
import argparse
import json
import math
import multiprocessing
import pickle
import platform
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.pool import Pool, ThreadPool


def double(x):
    return x * 2


def identity(x):
    return x


# A calibrated busy loop, like pool-bench's Spinner: fixed work, not a clock-based wait, so that it
# means the same thing in processes and in GIL-bound threads.
ITERATIONS_PER_US = None


def spin(iterations, seed):
    x = seed | 1
    for _ in range(iterations):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def calibrate():
    rates = []
    for _ in range(5):
        n = 200_000
        start = time.perf_counter()
        spin(n, 7)
        rates.append(n / ((time.perf_counter() - start) * 1e6))
    rates.sort()
    return rates[len(rates) // 2]


def spin_item(args):
    index, iterations = args
    return spin(iterations, index)


def timed(repeats, body):
    body()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        out.append(time.perf_counter() - start)
    return out


def heuristic_chunksize(count, workers):
    chunksize, extra = divmod(count, workers * 4)
    return chunksize + (1 if extra else 0)


def cmd_overhead(a):
    rows = []
    tasks = list(range(a.tasks))

    def run(pool):
        results = [pool.apply_async(double, (i,)) for i in tasks]
        for r in results:
            r.get()

    with ThreadPool(a.workers) as pool:
        rows.append(dict(peer="CPython ThreadPool apply_async+get", items=a.tasks, seconds=timed(a.repeat, lambda: run(pool))))
    with Pool(a.workers) as pool:
        rows.append(dict(peer="CPython Pool apply_async+get", items=a.tasks, seconds=timed(a.repeat, lambda: run(pool))))
    return rows


def cmd_lifetime(a):
    """A pool's whole life, one sample per pool: start, one apply, close, join."""
    rows = []
    for peer, make, count in (("CPython ThreadPool", ThreadPool, a.samples), ("CPython Pool", Pool, max(5, a.samples // 5))):
        def life():
            pool = make(a.workers)
            pool.apply(double, (1,))
            pool.close()
            pool.join()
        life()  # warm-up
        seconds = []
        for _ in range(count):
            start = time.perf_counter()
            life()
            seconds.append(time.perf_counter() - start)
        rows.append(dict(peer=peer + " (start, apply, close, join)", items=1, seconds=seconds))
    return rows


def cmd_map(a):
    rows = []
    data = list(range(a.items))
    chunk = heuristic_chunksize(a.items, a.workers)
    with Pool(a.workers) as pool:
        rows.append(dict(peer="CPython Pool.map", items=a.items, note=f"chunksize {chunk}",
                         seconds=timed(a.repeat, lambda: pool.map(double, data))))
    with ThreadPool(a.workers) as pool:
        rows.append(dict(peer="CPython ThreadPool.map", items=a.items, note=f"chunksize {chunk}",
                         seconds=timed(a.repeat, lambda: pool.map(double, data))))
    rows.append(dict(peer="CPython serial list(map())", items=a.items, seconds=timed(a.repeat, lambda: list(map(double, data)))))
    return rows


def cmd_imap(a):
    rows = []
    data = list(range(a.items))

    def consume(pool, method):
        total = 0
        for value in getattr(pool, method)(double, data, chunksize=a.chunksize):
            total += value
        return total

    for cls, name in ((Pool, "Pool"), (ThreadPool, "ThreadPool")):
        with cls(a.workers) as pool:
            for method in ("imap", "imap_unordered"):
                rows.append(dict(peer=f"CPython {name}.{method}", items=a.items, note=f"chunksize {a.chunksize}",
                                 seconds=timed(a.repeat, lambda: consume(pool, method))))
    return rows


def cmd_efficiency(a):
    per_us = calibrate()
    iterations = max(1, int(a.spin_us * per_us))
    data = [(i, iterations) for i in range(a.items)]
    rows = []
    serial = timed(a.repeat, lambda: [spin_item(d) for d in data])
    rows.append(dict(peer="CPython serial loop", items=a.items, seconds=serial))
    with Pool(a.workers) as pool:
        s = timed(a.repeat, lambda: pool.map(spin_item, data))
        eff = sorted(serial)[len(serial) // 2] / (a.workers * sorted(s)[len(s) // 2]) * 100
        rows.append(dict(peer="CPython Pool.map", items=a.items, seconds=s, note=f"efficiency {eff:.1f} %"))
    with ThreadPool(a.workers) as pool:
        s = timed(a.repeat, lambda: pool.map(spin_item, data))
        eff = sorted(serial)[len(serial) // 2] / (a.workers * sorted(s)[len(s) // 2]) * 100
        rows.append(dict(peer="CPython ThreadPool.map", items=a.items, seconds=s, note=f"efficiency {eff:.1f} % (GIL)"))
    return rows


@dataclass
class Record:
    id: int
    name: str
    score: float


SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "so", "vi")


def nested_record(i):
    """pool-bench's BenchNestedRecord as a dict: a list, a nested dict, None for a missing note."""
    return dict(id=i, name=f"name-{i}", tags=[f"tag-{(i + k) % 10}" for k in range(i % 4)],
                point=dict(x=i * 0.25, y=i * -0.5), note=f"note {i}" if i % 2 == 0 else None)


def word_count(i):
    """pool-bench's BenchWordCount as the (str, int) tuple a word count's map step returns."""
    return ("".join(SYLLABLES[(i >> (3 * k)) & 7] for k in range(1 + i % 4)), 1 + (i * 7) % 100)


def pickle_row(peer, values, chunk, repeat, note, section):
    """Times pickle.dumps + pickle.loads over `values` in chunks; the note gives pickle's bytes per item."""
    chunks = [values[i:i + chunk] for i in range(0, len(values), chunk)]

    def round_trip():
        for c in chunks:
            pickle.loads(pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL))

    size = sum(len(pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL)) for c in chunks) / max(len(values), 1)
    return dict(peer=peer, items=len(values), seconds=timed(repeat, round_trip),
                note=f"{note}, chunks of {chunk}, {size:.1f} bytes per item", section=section)


def cmd_codec(a):
    rows = []
    ints = list(range(a.ints))
    rows.append(pickle_row("CPython pickle", ints, heuristic_chunksize(a.ints, a.workers), a.repeat,
                           f"protocol {pickle.HIGHEST_PROTOCOL}", "ints"))
    rchunk = heuristic_chunksize(a.records, a.workers)
    # A record as Python code usually holds one (a dict, what JSON gives), and as a dataclass.
    rows.append(pickle_row("CPython pickle (dict)", [dict(id=i, name=f"name-{i}", score=i * 0.5) for i in range(a.records)],
                           rchunk, a.repeat, "dict records", "records"))
    rows.append(pickle_row("CPython pickle (dataclass)", [Record(i, f"name-{i}", i * 0.5) for i in range(a.records)],
                           rchunk, a.repeat, "dataclass records", "records"))
    rows.append(pickle_row("CPython pickle (dict)", [nested_record(i) for i in range(a.records)],
                           rchunk, a.repeat, "dicts holding a list and a dict", "nested"))
    rows.append(pickle_row("CPython pickle (tuple)", [word_count(i) for i in range(a.records)],
                           rchunk, a.repeat, "(str, int) tuples", "pairs"))
    return rows


SHAPES = ("cheap", "uniform", "ramp", "ramp-down", "step", "step-down", "periodic", "bimodal", "heavy-tail", "one-slow")


def mix(index):
    """SplitMix64's finalizer, as pool-bench's Shape.mix: the bimodal shape's pick per index."""
    mask = (1 << 64) - 1
    z = (index + 0x9E3779B97F4A7C15) & mask
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
    return z ^ (z >> 31)


def shape_costs(shape, items, base_us):
    """Per-item cost in microseconds, as pool-bench's shapes define them."""
    if shape == "cheap":
        return [0.0] * items
    if shape == "uniform":
        return [base_us] * items
    if shape == "ramp":
        return [2.0 * base_us * i / max(items - 1, 1) for i in range(items)]
    if shape == "ramp-down":
        return [2.0 * base_us * (items - 1 - i) / max(items - 1, 1) for i in range(items)]
    if shape == "step":
        return [0.2 * base_us if i < items // 2 else 1.8 * base_us for i in range(items)]
    if shape == "step-down":
        return [1.8 * base_us if i < items // 2 else 0.2 * base_us for i in range(items)]
    if shape == "periodic":
        return [base_us * (1.0 + 0.9 * math.sin(2.0 * math.pi * i / 1000.0)) for i in range(items)]
    if shape == "bimodal":
        return [5.5 * base_us if mix(i) % 10 == 0 else 0.5 * base_us for i in range(items)]
    if shape == "heavy-tail":
        return [100.0 * base_us if i % 100 == 37 else base_us for i in range(items)]
    if shape == "one-slow":
        costs = [base_us] * items
        costs[items // 3] = base_us * (items - 1) / 9.0  # 10 % of the total
        return costs
    raise SystemExit(f"unknown shape {shape}")


def cmd_chunks(a):
    per_us = calibrate()
    costs = shape_costs(a.shape, a.items, a.base_us)
    data = [(i, max(0, int(c * per_us))) for i, c in enumerate(costs)]
    rows = []
    chunk = heuristic_chunksize(a.items, a.workers)
    with Pool(a.workers) as pool:
        rows.append(dict(peer="CPython Pool.map", items=a.items, note=f"heuristic chunksize {chunk}",
                         seconds=timed(a.repeat, lambda: pool.map(spin_item, data))))
    with ThreadPool(a.workers) as pool:
        rows.append(dict(peer="CPython ThreadPool.map", items=a.items, note=f"heuristic chunksize {chunk} (GIL)",
                         seconds=timed(a.repeat, lambda: pool.map(spin_item, data))))
    return rows


def reset_signals():
    """A parent that spawns us from a thread with signals blocked (a Swift program's dispatch and
    cooperative threads block them) passes that mask on, and multiprocessing's terminate() then
    cannot stop its workers with SIGTERM: the pool hangs on exit. Start from a clean slate."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def main():
    reset_signals()
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("overhead")
    p.add_argument("--tasks", type=int, default=100_000)
    p = sub.add_parser("lifetime")
    p.add_argument("--samples", type=int, default=100)
    p = sub.add_parser("map")
    p.add_argument("--items", type=int, default=1_000_000)
    p = sub.add_parser("imap")
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--chunksize", type=int, default=1_000)
    p = sub.add_parser("efficiency")
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--spin-us", type=float, default=10.0)
    p = sub.add_parser("codec")
    p.add_argument("--ints", type=int, default=1_000_000)
    p.add_argument("--records", type=int, default=100_000)
    p = sub.add_parser("chunks")
    p.add_argument("--shape", choices=SHAPES, default="heavy-tail")
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--base-us", type=float, default=10.0)
    for p in sub.choices.values():
        p.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
        p.add_argument("--repeat", type=int, default=5)
    a = parser.parse_args()
    rows = {"overhead": cmd_overhead, "lifetime": cmd_lifetime, "map": cmd_map, "imap": cmd_imap, "efficiency": cmd_efficiency,
            "codec": cmd_codec, "chunks": cmd_chunks}[a.command](a)
    json.dump({"python": platform.python_version(), "rows": rows}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
