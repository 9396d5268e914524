"""What the tests compare: a result of either form of the predictor (neuralzip.backend) as a CPU tensor."""

import numpy as np
import torch


def host(x) -> torch.Tensor:
    """x (a numpy array, the loops' form; or a tensor on any device) as a CPU tensor of its own."""
    return torch.from_numpy(np.array(x)) if isinstance(x, np.ndarray) else x.detach().cpu().clone()


def same(a, b) -> bool:
    """torch.equal of two results, whichever form each is in."""
    return torch.equal(host(a), host(b))
