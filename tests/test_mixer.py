"""The bit mixer (neuralzip.mixer, FORMAT.md "Bit mixer"): its decisions are coder v1 symbols, its loops give the
same integers compiled or not, and the models that carry it are what their cards' commands make."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

import neuralzip
from neuralzip import NeuralZipError, zoo
from neuralzip.coder import RangeDecoders, RangeEncoders
from neuralzip.fused import coder as coder_loops
from neuralzip.fused.apm import POINTS
from neuralzip.mixer import BitMixer
from neuralzip.train.mixer import with_mixer


def _records(rows: int) -> bytes:
    """A CSV export: the same fields line after line, numbers that change a little, as logs and tables are."""
    lines = [b"date,region,cases,deaths,tested"]
    for i in range(rows):
        lines.append(b"2026-%02d-%02d,region-%d,%d,%d,%d" % (1 + i // 28 % 12, 1 + i % 28, i % 7, 1000 + 37 * i,
                                                              i * 3 % 101, 5000 + 11 * i))
    return b"\n".join(lines) + b"\n"


@pytest.mark.parametrize("p1", [1, 2, 100, 2048, 3000, 4094, 4095])
def test_a_decision_is_the_symbol_of_two_frequencies(p1):
    """encode_bit codes what coder v1 codes for the symbol under frequencies (4096 - p1, p1), word for word, and
    decode_bit reads it back."""
    bits = np.random.default_rng(p1).integers(0, 2, 3000)
    by_bits = RangeEncoders([len(bits)])
    for bit in bits:
        coder_loops.encode_bit(by_bits.state, 0, p1, int(bit))
    as_symbols = RangeEncoders([len(bits)])
    as_symbols.encode(0, bits, np.tile(np.array([4096 - p1, p1], np.int64), (len(bits), 1)))
    payload = by_bits.finish()[0]
    assert payload == as_symbols.finish()[0]
    decoders = RangeDecoders([payload])
    assert [coder_loops.decode_bit(decoders.state, 0, p1) for _ in bits] == bits.tolist()


def test_structured_text_costs_far_less_with_the_mixer():
    """On records the mixer's context models (the line above, the fields) take off a large part of the prediction's
    code length; the stream is frozen."""
    data = _records(300)
    with_it, without = neuralzip.compress(data), neuralzip.compress(data, model="lstm384-v12")
    assert neuralzip.decompress(with_it) == data
    assert len(with_it) < 0.4 * len(without)          # 687 and 2,002 bytes of 9,961
    assert hashlib.sha256(with_it).hexdigest()[:16] == "ee97005739c2bf09"
    v13 = neuralzip.compress(data, model="lstm384-v13")      # no input map: 679 bytes
    assert hashlib.sha256(v13).hexdigest()[:16] == "db929f3da12de220"


def _window(table_bits=10, map_order=2, key=True):
    """A mixer (with an input map and the key context) and coders over a batch of 3 streams of one group and 1 of
    another, fed made-up frequencies."""
    rng = np.random.default_rng(7)
    text = np.frombuffer(_records(40)[:4 * 300], np.uint8).reshape(4, 300).copy()
    freqs = rng.integers(1, 1 << 12, (300, 4, 256)).astype(np.int64)
    lengths = np.array([300, 300, 250, 300], np.int64)
    mixer = BitMixer([5, 5, 5, 9], lengths.tolist(), table_bits, 12, 255, map_order, key)
    coders = RangeEncoders([300, 300, 250, 300, 850], mixer)
    targets = np.array([[0, 4], [1, 4], [2, 4], [3, -1]], np.int64)
    coders.encode_window(freqs, text, 0, lengths, targets)
    return coders.finish(), freqs, text, lengths


def test_the_loops_give_the_same_words_without_numba():
    """The loops' integers are the same run by Python on numpy scalars (NUMBA_DISABLE_JIT=1) as compiled."""
    code = ("import sys; sys.path.insert(0, 'tests'); import test_mixer; "
            "print([[p.hex() for p in test_mixer._window(map_order=k, key=k > 0)[0]] for k in (0, 2)])")
    done = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, NUMBA_DISABLE_JIT="1"),
                          capture_output=True, text=True, check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.stdout.strip() == str([[p.hex() for p in _window(map_order=k, key=k > 0)[0]] for k in (0, 2)])


def test_decoding_follows_the_encoder_and_learns_from_known_rows():
    """Each stream decodes from its own payload; a stream without one (its bytes known, as a member that went out
    another way) teaches its group the same as when it was coded."""
    payloads, freqs, text, lengths = _window()
    sources = np.array([0, -1, 2, 3], np.int64)         # stream 1's bytes are known
    decoders = RangeDecoders([payloads[0], b"", payloads[2], payloads[3]],
                             BitMixer([5, 5, 5, 9], lengths.tolist(), 10, 12, 255, 2, True))
    out = np.zeros((4, 300), np.int64)
    symbols = np.zeros(4, np.int64)
    for t in range(300):
        symbols[:] = text[:, t]
        symbols[[0, 2, 3]] = 0
        decoders.decode_step(freqs[t], t, lengths, sources, symbols)
        out[:, t] = symbols
    for b in range(4):
        assert out[b, :lengths[b]].tolist() == text[b, :lengths[b]].tolist()


def test_a_damaged_payload_is_refused_or_decodes_other_bytes():
    payloads, freqs, text, lengths = _window()
    damaged = bytearray(payloads[3])
    damaged[8] ^= 0xFF
    decoders = RangeDecoders([bytes(damaged)], BitMixer([9], [300], 10, 12, 255, 2, True))
    symbols = np.zeros(1, np.int64)
    got = []
    try:
        for t in range(300):
            decoders.decode_step(freqs[t, 3:4], t, lengths[3:4], np.array([0], np.int64), symbols)
            got.append(int(symbols[0]))
    except NeuralZipError:
        return
    assert got != text[3].tolist()


@pytest.mark.parametrize("settings", [(9, 12, 255), (23, 12, 255), (16, 0, 255), (16, 12, 0), (16, 12, 1024),
                                      (16, 12, 255, -1), (16, 12, 255, 5)])
def test_bad_mixer_settings_are_refused(settings):
    with pytest.raises(ValueError, match="bit mixer"):
        BitMixer([0], [10], *settings)


def test_the_mixer_models_are_the_maps_models_with_the_mixer():
    """lstm384-v13, -v14, -v15, -v16 and lstm128-v2 are what their cards' commands make of lstm384-v12, -v11, -v9,
    -v10 and lstm128-v1, byte for byte; -v16, -v14, -v15 and lstm128-v2 are the default, the best, the middle and
    the second levels."""
    for made_of, base, map_order, counts, key in (
            ("lstm384-v13", "lstm384-v12", 0, True, False), ("lstm384-v14", "lstm384-v11", 0, True, False),
            ("lstm384-v15", "lstm384-v9", 0, True, False), ("lstm384-v16", "lstm384-v10", 2, True, True),
            ("lstm128-v2", "lstm128-v1", 2, False, True)):
        model = zoo.load(made_of)
        made = with_mixer(zoo.load(base), 16, 12, 255, made_of, model.description, map_order, counts, key)
        assert hashlib.sha256(made).digest() == model.sha256
    assert not zoo.load("lstm128-v2").config.count_orders and zoo.FAST_MODEL == zoo.level(2).model == "lstm128-v2"
    assert zoo.DEFAULT_MODEL == zoo.level(5).model == zoo.level(6).model == "lstm384-v16"
    assert zoo.BEST_MODEL == zoo.level(7).model == zoo.level(9).model == "lstm384-v14"
    assert zoo.MIDDLE_MODEL == zoo.level(3).model == zoo.level(4).model == "lstm384-v15"


def test_a_small_group_gets_small_tables():
    """FORMAT.md "Bit mixer": 2**r' blocks per context model, r' = min(r, max(10, ceil(log2 n) + 2)) for a group of
    n bytes, so a small input touches few pages."""
    from neuralzip.mixer import group_table_bits
    assert [group_table_bits(n, 16) for n in (1, 256, 257, 1024, 1025, 16384, 16385, 1 << 22)] == \
        [10, 10, 11, 12, 13, 16, 16, 16]
    mixer = BitMixer([3, 3, 8], [600, 424, 4096], 16, 12, 255)
    assert mixer.state.table_bits.tolist() == [12, 14]
    assert mixer.state.tables.nbytes == 12 * (2 ** 12 + 2 ** 14) * 64
    with_map = BitMixer([3, 3, 8], [600, 424, 4096], 16, 12, 255, 2, True)  # the input map: as many rows as a context
    assert with_map.state.map_points.nbytes == (2 ** 12 + 2 ** 14) * POINTS * 4
    assert with_map.state.tables.nbytes == 13 * (2 ** 12 + 2 ** 14) * 64      # and the key context's table


def _key_after(text: bytes) -> int:
    from neuralzip.fused import mixer as loops
    state = BitMixer([0], [len(text)], 10, 12, 255, 0, True).state
    for s in text:
        loops._end(state, 0, s)
    return int(state.key[0])


def test_the_key_context_reads_json_keys_and_xml_names():
    """FORMAT.md "Bit mixer": the key is a JSON object's key (the quoted string before a colon), an XML or HTML
    attribute's name (the word before =) or a tag's name (the word after <, or after </)."""
    from neuralzip.fused.hashing import next_word

    def quoted(name: bytes) -> int:
        q = 0
        for x in name:
            q = (q * 773 + x + 1) & 0xFFFFFFFF
        return q

    def word(name: bytes) -> int:
        w = 0
        for x in name:
            w = int(next_word(w, x))
        return w

    assert _key_after(b'{"region": "Amer') == quoted(b"region")
    assert _key_after(b'{"a": {"b c": 1, "x"') == quoted(b"b c")          # a string that is no key leaves it
    assert _key_after(b'<city code="AW" name=') == word(b"name")
    assert _key_after(b'<country id="1"><capital>Par') == word(b"capital")
    assert _key_after(b'<a>x</title>') == word(b"title")
    assert _key_after(b'plain prose, no keys: here') == 0
