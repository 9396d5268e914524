"""neuralzip: lossless compression with a neural language model and a range coder."""

from .api import (NeuralZipCompressor, NeuralZipDecompressor, StreamInfo, compress, decompress, describe)
from .errors import NeuralZipError
from .file import NeuralZipFile, open
from .zoo import DEFAULT_LEVEL, MAX_LEVEL, MIN_LEVEL

__all__ = ["compress", "decompress", "open", "describe", "NeuralZipFile", "NeuralZipCompressor",
           "NeuralZipDecompressor", "NeuralZipError", "StreamInfo", "DEFAULT_LEVEL", "MIN_LEVEL", "MAX_LEVEL"]
__version__ = "0.1.0"
