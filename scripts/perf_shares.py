#!/usr/bin/env python3
"""Shares of a thread's samples spent under named functions, from `perf script -F comm,tid,ip,sym`.

Each sample's call stack is read root first; a function counts once per sample however often it appears
in that stack (inclusive time). Usage: perf_shares.py SCRIPT_OUTPUT PATTERN... (a pattern is a regular
expression on a frame's symbol; each prints on its own line with its share of all samples read).
"""
import re
import sys


def samples(path):
    stack = []
    with open(path, errors="replace") as f:
        for line in f:
            if not line.strip():
                if stack:
                    yield stack
                stack = []
            elif line[0] in " \t":
                parts = line.strip().split(None, 1)
                stack.append(re.sub(r"\+0x[0-9a-f]+$", "", parts[-1]))
    if stack:
        yield stack


def main():
    path, patterns = sys.argv[1], [re.compile(p) for p in sys.argv[2:]]
    total, hits = 0, [0] * len(patterns)
    for stack in samples(path):
        total += 1
        for i, p in enumerate(patterns):
            if any(p.search(frame) for frame in stack):
                hits[i] += 1
    print(f"{total} samples")
    for p, n in zip(patterns, hits):
        print(f"{100 * n / max(total, 1):5.1f}%  {p.pattern}")


if __name__ == "__main__":
    main()
