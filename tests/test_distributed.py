"""neuralzip.distributed: on a local Ray instance and on a two-node cluster on this machine, the same bytes as
neuralzip.compress; killed workers retried, a job that cannot finish leaving no output. Skipped without Ray."""

import glob
import os
import random
import textwrap
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")
import ray.cluster_utils  # noqa: E402

import neuralzip  # noqa: E402
import neuralzip.distributed as nzd  # noqa: E402
from neuralzip import cli  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OBJECT_STORE = 200 << 20        # per node: small, so that a shared machine keeps its memory
BATCH = 4 << 20                 # level 1's batches on the CPU: its match groups, whole
LEVEL = 1
# every test of Ray in one test process, one after another: the README's `ray stop` ends every Ray process of the
# machine (tests/test_readme.py), and the clusters here would lose their nodes to it
pytestmark = pytest.mark.xdist_group("ray")


@pytest.fixture(scope="module")
def data() -> bytes:
    """Two batches and a bit, each of text (coded by the model) and random bytes (stored, joined into frames
    across batches): cheap to code, and every kind of frame and batch boundary."""
    text = b"".join(Path(p).read_bytes() for p in sorted(glob.glob(str(ROOT / "neuralzip" / "*.py"))))
    rng = random.Random(21)
    return b"".join(text[i * 100_000:(i + 1) * 100_000].ljust(100_000, b"=") + rng.randbytes(BATCH - 100_000)
                    for i in range(2)) + text[:50_000] + rng.randbytes(200_000)


@pytest.fixture(scope="module")
def reference(data) -> bytes:
    return neuralzip.compress(data, LEVEL)


def test_local_instance_as_the_module_docstring_shows(data):
    """With no address, Workers starts a local Ray instance (here of 2 CPUs), and closing them stops it. (One
    batch: the cluster's tests below take several.)"""
    assert not ray.is_initialized()
    example = next(block for block in nzd.__doc__.split("\n\n") if block.startswith("    import"))
    namespace = {"data": data[:300_000]}
    exec(textwrap.dedent(example), namespace)
    assert namespace["blob"] == neuralzip.compress(data[:300_000], LEVEL)
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def cluster():
    """A head node and a second node, one CPU each, on this machine; this process connected as the driver."""
    c = ray.cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 1,
                                                                        "object_store_memory": OBJECT_STORE})
    try:
        c.add_node(num_cpus=1, object_store_memory=OBJECT_STORE)
        nzd.connect(c.address)
        yield c
    finally:
        ray.shutdown()
        c.shutdown()


# the Ray Data test goes first: the actors of `workers` hold both CPUs while they live
def test_files_with_ray_data(cluster, tmp_path):
    contents = [b"first file\n" * 3000, b"", Path(ROOT / "FORMAT.md").read_bytes()[:40_000]]
    paths = [str(tmp_path / f"f{i}.txt") for i in range(len(contents))]
    for p, c in zip(paths, contents):
        Path(p).write_bytes(c)
    outputs = nzd.compress_files(paths, LEVEL)
    assert outputs == [p + ".nz" for p in paths]
    for p, c in zip(paths, contents):
        assert Path(p + ".nz").read_bytes() == neuralzip.compress(c, LEVEL)
        assert Path(p).read_bytes() == c                    # inputs stay
        os.unlink(p)
    assert nzd.decompress_files(outputs) == paths
    assert [Path(p).read_bytes() for p in paths] == contents
    with pytest.raises(FileExistsError):                    # nothing is overwritten
        nzd.compress_files(paths, LEVEL)
    with pytest.raises(ValueError, match="level"):
        nzd.compress_files([str(tmp_path / "new")], 0)
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths + outputs)


@pytest.fixture(scope="module")
def workers(cluster):
    with nzd.Workers() as w:        # one per CPU: one on each node
        yield w


def test_same_bytes_as_one_machine(workers, data, reference, tmp_path):
    c = nzd.RayCompressor(LEVEL, workers=workers)
    out = c.compress(data) + c.flush()
    assert out == reference
    assert c.batches_done == 3
    # plain nunzip reads it
    (tmp_path / "d.nz").write_bytes(out)
    assert cli.main_unzip(["-q", str(tmp_path / "d.nz")]) == 0
    assert (tmp_path / "d").read_bytes() == data


def test_decompress_on_the_cluster(workers, data, reference):
    assert nzd.decompress(reference + reference, workers=workers) == data + data   # concatenated streams
    d = nzd.RayDecompressor(workers=workers)
    out = b"".join(d.decompress(reference[i:i + 300_000]) for i in range(0, len(reference), 300_000))
    assert d.eof and out == data and d.batches_done == 3
    with pytest.raises(neuralzip.NeuralZipError):           # a damaged frame: the data's fault, not the cluster's
        nzd.decompress(reference[:200] + bytes([reference[200] ^ 1]) + reference[201:], workers=workers)


def test_in_flight_is_bounded(workers, data):
    c = nzd.RayCompressor(LEVEL, workers=workers, in_flight=2)
    out = bytearray()
    for i in range(0, len(data), BATCH):
        out += c.compress(data[i:i + BATCH])
        assert len(c._batches) <= 2         # the driver holds at most two batches besides what it reads
    assert out + c.flush() == neuralzip.compress(data, LEVEL)


def test_killed_worker_is_retried(workers, data, reference):
    c = nzd.RayCompressor(LEVEL, workers=workers)
    out = c.compress(data[:2 * BATCH])          # two batches in flight, the first on the first actor
    (_, first, actor), = [job for job in c._batches._jobs if job[2] == 0]
    assert not ray.wait([first], timeout=0)[0]  # still being coded when its actor is killed
    ray.kill(workers.actors[actor], no_restart=False)
    out += c.compress(data[2 * BATCH:]) + c.flush()
    assert out == reference


def test_job_that_cannot_finish_leaves_no_output(cluster, data, tmp_path, monkeypatch, capsys):
    """nzip --ray ADDRESS with its workers killed for good mid-job: exit status 1, no output, the input stays."""
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    made = []
    real_init = nzd.Workers.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(self)

    def kill_when_writing():
        while not any(name.startswith(".input.txt.nz.tmp") for name in os.listdir(tmp_path)):
            time.sleep(0.05)
        time.sleep(1)                           # a batch or two submitted
        for actor in made[0].actors:
            ray.kill(actor, no_restart=True)

    monkeypatch.setattr(nzd.Workers, "__init__", recording_init)
    killer = threading.Thread(target=kill_when_writing, daemon=True)
    killer.start()
    status = cli.main([f"-{LEVEL}", "--ray", cluster.address, str(path)])
    killer.join(timeout=60)
    assert status == 1
    assert "input.txt: a batch could not be coded on the cluster" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["input.txt"] and path.read_bytes() == data
    assert ray.is_initialized()                 # the command line leaves the connection it found
