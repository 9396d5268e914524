"""The one error class for bad data."""


class NeuralZipError(Exception):
    """Raised for data that is not a valid neuralzip stream or model (corrupt, wrong model, unknown version)."""
