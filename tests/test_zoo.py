"""Embedded models: each is a config naming a network shipped once, and joins back into its model file's exact
bytes, whose SHA-256 is its identity in every stream."""

import hashlib
import json

import pytest

from neuralzip import NeuralZipError, modelfile, zoo

# The identity of every embedded model, as streams record it (FORMAT.md "model id"). A model whose bytes change
# no longer decodes the streams made with it: these must never change.
IDENTITIES = {
    "lstm128-v1": "d14cdbff34a918770bb928507b1f91e9430c1abf85484a19380c7c36f36ce13c",
    "lstm128-v2": "96438b69dfc4745912058204573cd703a89ffd1388df91a40af0abbff51be4b7",
    "lstm384-v1": "15e1a457866f10755e908a5794741c678c07e874726940eb098699031f5110c0",
    "lstm384-v10": "a0dbb10ed314f970c9c601723dc35c70655842d0c77e734cbabb71e7b0b515fc",
    "lstm384-v11": "37ec5188dfdee78c84c86db42a41a37bb38778d3f9eb2c4786f31c2504a9cea7",
    "lstm384-v12": "21c13df1c1a2f0a058638b1c2acc472e76d4287bae79adb4f8784102ac94a73c",
    "lstm384-v13": "4a51cc79e36e8cf2d62cebc434c4b18953ca33a64d038a6498fe27082d3e317b",
    "lstm384-v16": "2d70288b3088f13686cd435edcd7d297cf0dd2ad73d9bf9556dbc07df6e1a8a9",
    "lstm384-v14": "67ecaee25a23bfa6b43c4d38782fd312e4d6d61b4e8dd65a85f58502e8fe593e",
    "lstm384-v15": "d5b29fd72feab2cf13d276f2a92cc4512852dce0d2f17cbf7e0557cec13bd44b",
    "lstm384-v2": "b1eecb097fc8ad8a4a7ff7c76bcc6f1d43eded11888dba88c5cd2a8da929f26e",
    "lstm384-v3": "7b9b3e2297c5f7d24ee6b13570bc43ef8283f3650c2da36f6f74955d7df65a02",
    "lstm384-v4": "a936833a7bbd98247cbed0f42252da89c0dbb329ad0972656402decb3acd1c89",
    "lstm384-v5": "9f1a6c77cfce2b70cc147f14b7226ebec7276b9495ec0d95178406950fcf684c",
    "lstm384-v6": "5a3d3cc5852e0e26275638cd15337d16a133d1cbb2a7bcf05438664b4f007a8e",
    "lstm384-v7": "af9db6ab428b970d1e3cb38b4535a878030ecdbf8fa3f9029ae599979fb5c9ed",
    "lstm384-v8": "b8ad528afcff14ad3a288789d5d1002f59e3a66c6d037d29180e1fa89a994c91",
    "lstm384-v9": "b4a5cbe34383845be14919ecb637ee3045869448b562fd759642f9ccbef75844",
    "lstm64-v1": "bd1b12b5b2ced714ed80dbf95885579aa32c77ac5babf3f573e27c87f874fbf3",
}


def test_the_embedded_models_are_these():
    assert zoo.embedded_names() == sorted(IDENTITIES)


@pytest.mark.parametrize("name", sorted(IDENTITIES))
def test_an_embedded_model_keeps_its_identity(name):
    data = zoo.embedded_bytes(name)
    assert hashlib.sha256(data).hexdigest() == IDENTITIES[name]
    model = zoo.load(name)
    assert model.sha256.hex() == IDENTITIES[name] and model.name == name
    assert zoo.find(bytes.fromhex(IDENTITIES[name])[:8], name) is model


def test_levels_use_embedded_models():
    for n in range(zoo.MIN_LEVEL, zoo.MAX_LEVEL + 1):
        assert zoo.level(n).model in IDENTITIES


def test_each_network_is_shipped_once():
    networks = [p.read_bytes() for p in zoo.NETWORKS_DIR.glob("*" + zoo.NETWORK_SUFFIX)]
    assert len({hashlib.sha256(n).digest() for n in networks}) == len(networks) == 4
    used = {json.loads((zoo.MODELS_DIR / f"{n}{zoo.CONFIG_SUFFIX}").read_text())["network"] for n in IDENTITIES}
    assert sorted(used) == sorted(p.stem for p in zoo.NETWORKS_DIR.glob("*" + zoo.NETWORK_SUFFIX))


def _copy_of_embedded(tmp_path, names):
    (tmp_path / "networks").mkdir()
    for name in names:
        zoo.embed(zoo.embedded_bytes(name), network=name, models_dir=tmp_path)
    return tmp_path


def test_embed_shares_a_network_and_rebuilds_the_same_bytes(tmp_path, monkeypatch):
    models = _copy_of_embedded(tmp_path, ["lstm64-v1"])
    data = zoo.embedded_bytes("lstm64-v1")
    header, network = modelfile.split(data)
    renamed = modelfile.join(dict(header, name="mine", description="same network, another name"), network)
    zoo.embed(renamed, models_dir=models)           # no network name needed: the network is there already
    assert [p.name for p in (models / "networks").iterdir()] == ["lstm64-v1.net"]
    monkeypatch.setattr(zoo, "MODELS_DIR", models)
    monkeypatch.setattr(zoo, "NETWORKS_DIR", models / "networks")
    zoo._embedded_config.cache_clear()
    try:
        assert zoo.embedded_bytes("mine") == renamed and zoo.embedded_bytes("lstm64-v1") == data
    finally:
        zoo._embedded_config.cache_clear()


def test_embed_asks_for_a_new_network_name(tmp_path):
    with pytest.raises(ValueError, match="new network"):
        zoo.embed(zoo.embedded_bytes("lstm64-v1"), models_dir=tmp_path)


def test_a_damaged_network_is_refused(tmp_path, monkeypatch):
    models = _copy_of_embedded(tmp_path, ["lstm64-v1"])
    net = models / "networks" / "lstm64-v1.net"
    raw = bytearray(net.read_bytes())
    raw[1000] ^= 1
    net.write_bytes(bytes(raw))
    monkeypatch.setattr(zoo, "MODELS_DIR", models)
    monkeypatch.setattr(zoo, "NETWORKS_DIR", models / "networks")
    zoo._embedded_config.cache_clear()
    try:
        with pytest.raises(NeuralZipError, match="damaged.*reinstall"):
            zoo.embedded_bytes("lstm64-v1")
    finally:
        zoo._embedded_config.cache_clear()


def test_split_refuses_what_is_not_a_model_file():
    with pytest.raises(NeuralZipError, match="magic"):
        modelfile.split(b"not a model")


def test_the_embed_command(tmp_path, capsys):
    from neuralzip.train import embed
    model = tmp_path / "lstm64-v1.nzm"
    model.write_bytes(zoo.embedded_bytes("lstm64-v1"))
    models = tmp_path / "models"
    models.mkdir()
    assert embed.main([str(model), "--network", "net64", "--models-dir", str(models)]) == 0
    config = json.loads((models / "lstm64-v1.json").read_text())
    assert config["network"] == "net64" and config["sha256"] == IDENTITIES["lstm64-v1"]
    assert modelfile.join(config["header"], (models / "networks" / "net64.net").read_bytes()) == model.read_bytes()
    assert "embedded" in capsys.readouterr().out
