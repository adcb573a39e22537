# Word count over SimpleMapReduce: a small version of multiprocessing_wordcount.py from Doug
# Hellmann's "Python 3 Module of the Week", repository dhellmann/pymotw-3, file
# source/multiprocessing/multiprocessing_wordcount.py
# (https://pymotw.com/3/multiprocessing/mapreduce.html).
# Changes: the input files come from the command line (the original globs *.rst), and the
# "<worker> reading <file>" line goes to stderr, because worker names differ between Python
# (ForkPoolWorker-1) and Swift (WPool.1) and the output is compared byte for byte.
# Ported in Examples/pool-examples/WordCount.swift.
import multiprocessing
import operator
import string
import sys

from multiprocessing_mapreduce import SimpleMapReduce

STOP_WORDS = {
    "a", "an", "and", "are", "as", "be", "by", "for", "if", "in",
    "is", "it", "of", "or", "py", "rst", "that", "the", "to", "with",
}
TR = str.maketrans({p: " " for p in string.punctuation})


def file_to_words(filename):
    """Reads a file and returns a list of (word, 1) tuples."""
    print("{} reading {}".format(multiprocessing.current_process().name, filename), file=sys.stderr)
    output = []
    with open(filename, "rt") as f:
        for line in f:
            if line.lstrip().startswith(".."):  # a comment line
                continue
            line = line.translate(TR)  # punctuation becomes spaces
            for word in line.split():
                word = word.lower()
                if word.isalpha() and word not in STOP_WORDS:
                    output.append((word, 1))
    return output


def count_words(item):
    """Turns (word, [1, 1, ...]) into (word, count)."""
    word, occurences = item
    return (word, sum(occurences))


if __name__ == "__main__":
    input_files = sys.argv[1:]
    print("input_files:", input_files)

    mapper = SimpleMapReduce(file_to_words, count_words)
    word_counts = mapper(input_files)
    word_counts.sort(key=operator.itemgetter(1))
    word_counts.reverse()

    print("\nTOP 20 WORDS BY FREQUENCY\n")
    top20 = word_counts[:20]
    longest = max(len(word) for word, count in top20)
    for word, count in top20:
        print("{word:<{len}}: {count:5}".format(len=longest + 1, word=word, count=count))
