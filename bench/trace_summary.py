#!/usr/bin/python3
"""Where the time of a profiled run went: self and total time per libtorch op.

Reads the Chrome trace written by `autoloss bench train --profile FILE` (complete events, one
track per thread) and prints the ops with the most self time (the op's time minus the ops it
called), summed over threads, with counts and totals:
    /usr/bin/python3 bench/trace_summary.py FILE [--top 30]
"""
import argparse
import collections
import json


def self_times(events):
    """{name: [calls, self_us, total_us]} from complete events, nesting resolved per thread."""
    table = collections.defaultdict(lambda: [0, 0.0, 0.0])
    by_thread = collections.defaultdict(list)
    for event in events:
        if event.get("ph") == "X":
            by_thread[event.get("tid")].append(event)
    for thread_events in by_thread.values():
        # Parents start no later than their children and last at least as long.
        thread_events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, name, child_us]
        for event in thread_events:
            start, duration = float(event["ts"]), float(event["dur"])
            while stack and stack[-1][0] <= start:
                end, name, child = stack.pop()
                table[name][1] -= child
            if stack:
                stack[-1][2] += duration
            row = table[event["name"]]
            row[0] += 1
            row[1] += duration
            row[2] += duration
            stack.append([start + duration, event["name"], 0.0])
        for _, name, child in stack:
            table[name][1] -= child
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trace")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    with open(args.trace) as f:
        data = json.load(f)
    events = data["traceEvents"] if isinstance(data, dict) else data
    table = self_times(events)
    wall = sum(row[1] for row in table.values())
    print("%-48s %8s %10s %7s %10s" % ("op", "calls", "self ms", "self %", "total ms"))
    for name, (calls, self_us, total_us) in sorted(table.items(), key=lambda kv: -kv[1][1])[
            :args.top]:
        print("%-48s %8d %10.1f %6.1f%% %10.1f" % (
            name[:48], calls, self_us / 1e3, 100 * self_us / wall, total_us / 1e3))
    print("all ops, self time summed over threads: %.1f ms" % (wall / 1e3))


if __name__ == "__main__":
    main()
