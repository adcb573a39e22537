# Mandelbrot as a P4 bitmap: a small version of the Computer Language Benchmarks Game program
# "mandelbrot Python 3 #7", contributed by Joerg Baumann (Revised BSD licence), as kept in the
# repository Byron/benchmarksgame-cvs-mirror, file bench/mandelbrot/mandelbrot.python3-7.python3
# (https://benchmarksgame-team.pages.debian.net/benchmarksgame/program/mandelbrot-python3-7.html).
# Same arithmetic and the same Pool use: imap_unordered over a lazy generator of (y, n) jobs,
# each returning (y, row), and a consumer that puts the rows back in order. Written out again in
# short; the output is the original's, byte for byte (including its last-byte mask, which
# clears the whole last byte of each row when n is a multiple of 8).
# Ported in Examples/pool-examples/Mandelbrot.swift.
import sys
from itertools import islice
from os import cpu_count


def pixels(y, n):
    """Yields the row's bytes, 8 pixels each: 49 iterations, tested every 7."""
    c1 = 2.0 / float(n)
    c0 = -1.5 + 1j * y * c1 - 1j
    x = 0
    while True:
        byte = 0
        c = x * c1 + c0
        for pixel_bit in (128 >> pos for pos in range(8)):
            z = c
            for _ in range(7):
                for _ in range(7):
                    z = z * z + c
                if abs(z) >= 2.0:
                    break
            else:
                byte += pixel_bit
            c += c1
        yield byte
        x += 8


def compute_row(job):
    y, n = job
    row = bytearray(islice(pixels(y, n), (n + 7) // 8))
    row[-1] &= 0xFF << (8 - n % 8)
    return y, row


def ordered_rows(rows, n):
    """Puts rows that arrive in any order back in order, yielding each as soon as it can."""
    order = [None] * n
    i = 0
    j = n
    while i < len(order):
        if j > 0:
            row = next(rows)
            order[row[0]] = row
            j -= 1
        if order[i]:
            yield order[i]
            order[i] = None
            i += 1


def compute_rows(n):
    row_jobs = ((y, n) for y in range(n))
    if cpu_count() < 2:
        yield from map(compute_row, row_jobs)
    else:
        from multiprocessing import Pool
        with Pool() as pool:
            yield from ordered_rows(pool.imap_unordered(compute_row, row_jobs), n)


def mandelbrot(n):
    write = sys.stdout.buffer.write
    write("P4\n{0} {0}\n".format(n).encode())
    for _, row in compute_rows(n):
        write(row)


if __name__ == "__main__":
    mandelbrot(int(sys.argv[1]))
