"""Coverage-guided fuzzing of decompression with atheris (pip install atheris; not needed by the tests).

    python fuzz/atheris_decompress.py [atheris/libFuzzer options, e.g. -max_total_time=600 -rss_limit_mb=4096]

The seed streams of fuzz.mutate are written to fuzz/atheris-corpus/ and mutated there by libFuzzer. Every input
must decompress, or raise NeuralZipError or EOFError; any other exception is reported by atheris as a crash
and its input saved (crash-*), to be kept as a regression case in tests/test_properties.py. Inputs that do
decompress are checked for internal consistency: compressing the output again gives a stream that decompresses
to the same bytes.
"""

import os
import sys

import atheris

with atheris.instrument_imports(include=["neuralzip"]):   # not torch: slow to instrument, and not ours
    import neuralzip

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fuzz.mutate import seeds  # noqa: E402

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "atheris-corpus")


def one_input(data: bytes) -> None:
    try:
        out = neuralzip.decompress(data)
    except (neuralzip.NeuralZipError, EOFError):
        return
    if len(out) < 1 << 16:    # keep each input quick: re-coding costs a network step per byte
        assert neuralzip.decompress(neuralzip.compress(out, 1)) == out


def main() -> None:
    os.makedirs(CORPUS, exist_ok=True)
    for name, _, stream in seeds():
        with open(os.path.join(CORPUS, name + ".nz"), "wb") as f:
            f.write(stream)
    atheris.Setup(sys.argv + [CORPUS], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
