"""Prints what memory_classes.sh measured: heap and RSS growth per connection, then the heap growth
per class (bytes and objects per connection), largest first.

    python3 bench/scripts/memory_classes.py OUT_DIR CONNECTIONS
"""
import re
import sys


def histogram(path):
    classes, total = {}, 0
    with open(path) as f:
        for line in f:
            row = re.match(r'\s*\d+:\s+(\d+)\s+(\d+)\s+(\S+)', line)
            if row:
                classes[row.group(3)] = (int(row.group(1)), int(row.group(2)))
            row = re.match(r'Total\s+(\d+)\s+(\d+)', line)
            if row:
                total = int(row.group(2))
    return classes, total


def rss_kb(path):
    with open(path) as f:
        return int(f.read().split()[1])


def main(out_dir, n):
    before, total_before = histogram(out_dir + '/heap-before.txt')
    held, total_held = histogram(out_dir + '/heap-held.txt')
    rss = (rss_kb(out_dir + '/rss-held.txt') - rss_kb(out_dir + '/rss-before.txt')) * 1024
    print(f'heap growth per connection: {(total_held - total_before) / n:.0f} B; RSS growth per connection: {rss / n:.0f} B')
    rows = []
    for name in set(before) | set(held):
        count_before, bytes_before = before.get(name, (0, 0))
        count_held, bytes_held = held.get(name, (0, 0))
        rows.append(((bytes_held - bytes_before) / n, (count_held - count_before) / n, name))
    for bytes_each, count_each, name in sorted(rows, reverse=True):
        if bytes_each >= 2:
            print(f'{bytes_each:8.1f} B {count_each:6.2f} objects  {name}')


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
