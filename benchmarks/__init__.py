"""Benchmark harness: neuralzip against classical compressors on the same files in the same run.

Run it as ``python -m benchmarks`` from the repository root (``--help`` for options). Modules, one concept each:

- ``inputs``  which files are measured (the corpus, given paths, or the small ``--quick`` set)
- ``peers``   the compressors: neuralzip levels and the classical peers, each a compress/decompress pair
- ``measure`` timing, CPU time and peak memory of one call, repeated until it is long enough to time
- ``energy``  RAPL / NVML energy counters, or an estimate from CPU time when neither can be read
- ``worker``  one (compressor, file) measurement, run in a fresh subprocess so its peak memory is its own
- ``runner``  spawns the workers, checks each round trip against the input's hash
- ``machine`` the machine and software versions a run is reported with
- ``report``  the console table, RESULTS.md, results.json and results.csv
- ``plots``   the PNG figures (matplotlib, Agg backend)
- ``cli``     the command line, ``main(argv)``
"""

from .cli import main

__all__ = ["main"]
