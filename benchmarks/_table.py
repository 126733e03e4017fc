"""The table every benchmark script prints: left-aligned columns, two spaces apart."""


def print_table(head, rows):
    """Print ``head`` and ``rows`` (sequences of cells) as aligned columns."""
    widths = [max(len(str(r[i])) for r in list(rows) + [head]) for i in range(len(head))]
    for r in [head] + list(rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
