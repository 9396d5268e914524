"""Compression and decompression on a Ray cluster: the same bytes as neuralzip.compress on one machine.

A stream's batches share nothing (neuralzip.pipeline): each holds whole match groups, fixed by offsets in the
content. On one machine they are coded side by side on threads, their results taken in order; here the same
batches, cut by the same code (NeuralZipCompressor and NeuralZipDecompressor), go to Ray actors that hold the
model, and their results are taken in the same order. So the stream does not depend on which worker ran which
batch, nor on how many there are, and plain ``nunzip`` reads it.

    import neuralzip.distributed as nzd
    # with no address, a local Ray instance (these arguments go to ray.init), stopped again by close()
    with nzd.Workers(2, num_cpus=2, object_store_memory=200 << 20) as workers:
        blob = nzd.compress(data, 1, workers=workers)    # == neuralzip.compress(data, 1)
        assert nzd.decompress(blob, workers=workers) == data

* RayCompressor and RayDecompressor have the interfaces of NeuralZipCompressor and NeuralZipDecompressor, for a
  large file or stream: the driver holds at most ``in_flight`` batches (by default two per worker, so that no
  worker waits for the next), never the whole input.
* compress_files and decompress_files code a set of files, each to its own output, with Ray Data
  (read_binary_files, then map_batches on actors); each file is coded whole by one actor, so it suits many files
  of moderate size.
* GPUs are a resource: where the cluster has them, each actor asks for a share (num_gpus) and runs the model
  there; without, each actor takes one CPU and runs its products and numba on one thread.
* Faults: an actor that dies is restarted and its batches are run again (the coding is a pure function of the
  batch, so the result is the same). When a job cannot finish (the actor keeps dying, or the cluster goes away),
  ClusterError is raised; the command line then removes its partial output and leaves the input.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections import deque

try:
    import ray
    import ray.data
except ImportError as e:    # the extra is optional
    raise ImportError("neuralzip.distributed needs Ray: pip install 'neuralzip[ray]'") from e

import numba
import numpy as np

from . import backend, zoo
from .api import BATCH_CHUNKS, NeuralZipCompressor, NeuralZipDecompressor, compress as _compress_local, \
    decompress as _decompress_local, decompress_streams
from .pipeline import set_product_threads

IN_FLIGHT_PER_WORKER = 2     # one batch running on each actor, one waiting behind it
RETRIES = 3                  # restarts of a dead actor, and runs of a batch whose actor died
# Ray errors that mean the batch was lost with its worker or the cluster, not that coding it failed (an error
# raised by the coding itself comes back as that error)
_LOST = (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError, ray.exceptions.ObjectLostError,
         ray.exceptions.OwnerDiedError, ray.exceptions.NodeDiedError)


class ClusterError(ConnectionError):
    """The job could not finish on the cluster: a worker died more often than it may be restarted, or the cluster
    went away. (A ConnectionError: the work was lost with the machines doing it, not refused for bad data.)"""


def connect(address: str | None = None, **init_args) -> bool:
    """Connect this process to the Ray cluster at address ("HOST:PORT", or "auto" for the one ``ray start`` made
    on this machine); with None, start a local Ray instance. init_args go to ray.init (num_cpus,
    object_store_memory, ...). Does nothing when already connected. Returns whether it connected (and so should
    disconnect with ray.shutdown() when done)."""
    if ray.is_initialized():
        return False
    ray.init(address="local" if address is None else address, include_dashboard=False,
             logging_level=logging.WARNING, log_to_driver=False, **init_args)
    return True


@ray.remote(max_restarts=RETRIES, max_task_retries=RETRIES)
class _Coder:
    """An actor that runs batches' jobs (neuralzip.engine.encode_chunks, decode_chunks) on its own device, with the
    models it has been sent, each loaded once."""

    def __init__(self, device: str):
        set_product_threads(1)                # one core each: as many actors as cores (neuralzip.pipeline)
        numba.set_num_threads(1)
        self._device = backend.choose(device)
        self._files = {}                  # sha256 -> ModelFile

    def run(self, function, model: tuple | None, *args):
        """function(model_for_neural, *args); model: (sha256, [ObjectRef of the ModelFile]) or None, the
        reference in a list so that Ray passes it as it is and it is fetched only the first time."""
        if model is None:
            return function(None, *args)
        sha, (ref,) = model
        if sha not in self._files:
            self._files[sha] = ray.get(ref)
        return function(zoo.ModelOnDevice(self._files[sha], self._device), *args)


class Workers:
    """Ray actors that code batches: count of them (None: one per GPU of the cluster, else one per CPU), each with
    num_gpus of a GPU (None: 1 where the cluster has GPUs, else none and one CPU). Connects to the cluster at
    address first when not connected (None: a local instance), and close() disconnects it again. A context
    manager; several compressors and decompressors may share one."""

    def __init__(self, count: int | None = None, *, num_gpus: float | None = None, address: str | None = None,
                 **init_args):
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError(f"count must be a number of workers, 1 or more, or None, not {count!r}")
        self._connected = connect(address, **init_args)
        try:
            gpus = ray.cluster_resources().get("GPU", 0)
            self.num_gpus = (1 if gpus else 0) if num_gpus is None else num_gpus
            if count is None:
                count = int(gpus if self.num_gpus else ray.cluster_resources().get("CPU", 1)) or 1
            self.device_type = "cuda" if self.num_gpus else "cpu"
            options = {"num_gpus": self.num_gpus, "num_cpus": 0 if self.num_gpus else 1}
            self.actors = [_Coder.options(**options).remote(self.device_type) for _ in range(count)]
            self._models = {}             # sha256 -> ObjectRef of the ModelFile, put once
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for actor in getattr(self, "actors", ()):
            ray.kill(actor)
        self.actors = []
        if self._connected:
            ray.shutdown()
            self._connected = False

    def model(self, model: zoo.ModelOnDevice | None) -> tuple | None:
        """What _Coder.run takes for a job's model (the device is the actor's own)."""
        if model is None:
            return None
        sha = model.file.sha256
        if sha not in self._models:
            self._models[sha] = ray.put(model.file)
        return sha, [self._models[sha]]


class _ActorPipeline:
    """neuralzip.pipeline.Pipeline's interface, its jobs run on the workers' actors: at most in_flight at once
    (backpressure: the driver waits for the oldest before it submits more), results taken in order."""

    def __init__(self, workers: Workers, in_flight: int | None):
        if not workers.actors:
            raise ValueError("the workers are closed")
        self._workers = workers
        self._in_flight = in_flight or IN_FLIGHT_PER_WORKER * len(workers.actors)
        self._jobs: deque = deque()       # (tag, ObjectRef of the result, actor index)
        self._load = [0] * len(workers.actors)
        self.done = 0                     # results taken: the batches done, for progress

    def submit(self, tag, function, model, *args) -> None:
        """Run function(model, *args) on the least busy actor, with its own copy of the model."""
        actor = self._load.index(min(self._load))
        self._load[actor] += 1
        ref = self._workers.actors[actor].run.remote(function, self._workers.model(model), *args)
        self._jobs.append((tag, ref, actor))

    def __len__(self) -> int:
        return len(self._jobs)

    def has_room(self) -> bool:
        return len(self._jobs) < self._in_flight

    def should_take(self) -> bool:
        if not self._jobs:
            return False
        return len(self._jobs) >= self._in_flight or bool(ray.wait([self._jobs[0][1]], timeout=0)[0])

    def take(self):
        tag, ref, actor = self._jobs.popleft()
        self._load[actor] -= 1
        try:
            result = ray.get(ref)
        except _LOST as e:
            raise ClusterError(f"a batch could not be coded on the cluster ({type(e).__name__}); "
                               "check that its workers are up, and run the job again") from e
        self.done += 1
        return tag, result


class RayCompressor(NeuralZipCompressor):
    """NeuralZipCompressor whose batches are coded on the workers' actors: the same stream, made on a cluster.
    in_flight: most batches submitted and not yet taken (default: two per worker)."""

    def __init__(self, level: int | None = None, *, model: str | os.PathLike | None = None, workers: Workers,
                 in_flight: int | None = None):
        super().__init__(level, model=model, device="cpu")
        self._batch_bytes = self._batch_size(BATCH_CHUNKS[workers.device_type])   # the workers' device's width
        self._batches = _ActorPipeline(workers, in_flight)

    @property
    def batches_done(self) -> int:
        return self._batches.done


class RayDecompressor(NeuralZipDecompressor):
    """NeuralZipDecompressor whose batches are decoded on the workers' actors (in_flight as for RayCompressor)."""

    def __init__(self, *, model: str | os.PathLike | None = None, workers: Workers, max_size: int | None = None,
                 in_flight: int | None = None):
        super().__init__(model=model, device="cpu", max_size=max_size)
        self._batch = BATCH_CHUNKS[workers.device_type]
        self._batches = _ActorPipeline(workers, in_flight)

    @property
    def batches_done(self) -> int:
        return self._batches.done


def compress(data, level: int | None = None, *, model: str | os.PathLike | None = None,
             workers: Workers) -> bytes:
    """neuralzip.compress(data, level, model=model), its batches coded by the workers: the same bytes."""
    c = RayCompressor(level, model=model, workers=workers)
    return c.compress(data) + c.flush()


def decompress(data, *, model: str | os.PathLike | None = None, workers: Workers) -> bytes:
    """neuralzip.decompress(data, model=model), its batches decoded by the workers."""
    return decompress_streams(bytes(data), lambda: RayDecompressor(model=model, workers=workers))


class _FileCoder:
    """Ray Data's map_batches function: each row's file content compressed (or decompressed) whole, in an actor
    that runs its products and numba on one thread (or on its GPU share)."""

    def __init__(self, compressing: bool, level: int | None, model: str | None):
        set_product_threads(1)
        numba.set_num_threads(1)
        self._compressing, self._level, self._model = compressing, level, model

    def __call__(self, batch: dict) -> dict:
        if self._compressing:
            coded = [_compress_local(b, self._level, model=self._model) for b in batch["bytes"]]
        else:
            coded = [_decompress_local(b, model=self._model) for b in batch["bytes"]]
        return {"path": batch["path"], "bytes": np.array(coded, dtype=object)}


def compress_files(paths: list[str], level: int | None = None, *, model: str | None = None,
                   workers: int | None = None, num_gpus: float | None = None, suffix: str = ".nz") -> list[str]:
    """Compress each file to the file named as it plus suffix, on the connected cluster with Ray Data: each file
    the bytes of neuralzip.compress(content, level, model=model). The files (and model, if a path) must be
    readable by the workers, at the same paths. workers: actors at most (None: one per CPU, or GPU); num_gpus
    as for Workers. An existing output is refused before anything is done; each output appears whole or not
    at all (written beside it, then renamed). Returns the outputs' paths, in the order of paths."""
    return _code_files(paths, [p + suffix for p in paths], True, level, model, workers, num_gpus)


def decompress_files(paths: list[str], *, model: str | None = None, workers: int | None = None,
                     num_gpus: float | None = None, suffix: str = ".nz") -> list[str]:
    """Decompress each file, whose name ends with suffix, to the file named without it (as compress_files)."""
    if bad := [p for p in paths if not p.endswith(suffix) or len(os.path.basename(p)) == len(suffix)]:
        raise ValueError(f"{bad[0]!r} does not end with {suffix!r} after a name; rename it or give another suffix")
    return _code_files(paths, [p[:-len(suffix)] for p in paths], False, None, model, workers, num_gpus)


def _code_files(paths, outputs, compressing, level, model, workers, num_gpus) -> list[str]:
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError("paths must be a list of file names, not one name")
    if not paths:
        return []
    if existing := [o for o in outputs if os.path.lexists(o)]:
        raise FileExistsError(f"{existing[0]} already exists; remove it first")
    zoo.level(level)                      # a bad level fails here, not on every worker
    if model is not None:
        zoo.load(model)
    if not ray.is_initialized():
        raise ValueError("not connected to a Ray cluster: call neuralzip.distributed.connect() first")
    gpus = ray.cluster_resources().get("GPU", 0)
    num_gpus = (1 if gpus else 0) if num_gpus is None else num_gpus
    most = workers or int(gpus if num_gpus else ray.cluster_resources().get("CPU", 1)) or 1
    absolute = [os.path.abspath(p) for p in paths]
    output_of = dict(zip(absolute, outputs))
    dataset = ray.data.read_binary_files(absolute, include_paths=True).map_batches(
        _FileCoder, fn_constructor_args=(compressing, level, model), batch_size=1, batch_format="numpy",
        concurrency=(1, min(most, len(paths))), num_gpus=num_gpus, num_cpus=0 if num_gpus else 1)
    for row in dataset.iter_rows():
        _write_whole(output_of[os.path.abspath(row["path"])], row["bytes"])
    return outputs


def _write_whole(path: str, data: bytes) -> None:
    """Write path's data to a temporary file beside it, then rename it into place: never a partial file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=f".{os.path.basename(path)}.tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
