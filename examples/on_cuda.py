"""Compress on the GPU when there is one, and decompress anywhere: a stream made with CUDA is the same stream the
CPU makes, bit for bit.

    python examples/on_cuda.py [FILE]

With no FILE it compresses a made-up text. device="auto" (the default) picks CUDA when torch sees a GPU, and the
CPU otherwise; this script says which it got.
"""

import sys

import torch

import neuralzip


def main(argv: list[str]) -> int:
    data = open(argv[0], "rb").read() if argv else b"The GPU and the CPU agree on every byte of this sentence.\n" * 40
    if torch.cuda.is_available():
        device = "cuda"
        print(f"running on CUDA ({torch.cuda.get_device_name()})")
    else:
        device = "cpu"
        print("CUDA is not available here: running on the CPU")
    blob = neuralzip.compress(data, device=device)
    print(f"{len(data)} -> {len(blob)} bytes on {device}")
    # decompress on the CPU: any machine, any device reads the stream back
    assert neuralzip.decompress(blob, device="cpu") == data
    if device == "cuda":
        assert neuralzip.compress(data, device="cpu") == blob, "CUDA and CPU streams differ"
        print("the CPU makes the same stream")
    print("decompressed on the CPU: same bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
