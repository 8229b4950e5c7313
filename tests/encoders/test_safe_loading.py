"""fairseq checkpoints are read without running code from the file; converters name bad keys."""

from __future__ import annotations

import pytest
import torch

from textless.encoders.fairseq_import import dictionaries, load_fairseq, parse_conv_layers, safe_torch_load
from textless.errors import CheckpointError


class _Payload:
    """Unpickling this would create a file: what a malicious checkpoint does."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (str(self.target), "w"))


def test_checkpoint_that_would_run_code_is_refused(fairseq_checkpoint, tmp_path):
    path, _ = fairseq_checkpoint(False)
    ckpt = safe_torch_load(path)
    target = tmp_path / "pwned"
    ckpt["task_state"] = {}
    ckpt["extra_state"]["metrics"] = _Payload(target)
    evil = tmp_path / "evil.pt"
    torch.save(ckpt, evil)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_fairseq(evil)
    assert not target.exists()


def test_pickled_fairseq_dictionary_is_read_as_data(fairseq_checkpoint):
    path, _ = fairseq_checkpoint(False)
    ckpt = safe_torch_load(path)
    (symbols,) = dictionaries(ckpt)
    assert symbols[:5] == ["<s>", "<pad>", "</s>", "<unk>", "0"] and len(symbols) == 24
    assert "fairseq.data.dictionary.Dictionary" in torch.serialization.get_unsafe_globals_in_checkpoint(str(path))


@pytest.mark.parametrize("change", ["unknown", "missing", "shape"])
def test_converter_names_the_bad_key(fairseq_checkpoint, tmp_path, change):
    path, _ = fairseq_checkpoint(False)
    ckpt = safe_torch_load(path)
    from textless.encoders.fairseq_export import _fairseq_dictionary_class

    sd = ckpt["model"]
    if change == "unknown":
        sd["encoder.layers.0.extra.weight"] = torch.zeros(1)
        key = "encoder.layers.0.extra.weight"
    elif change == "missing":
        del sd["encoder.layers.1.fc1.bias"]
        key = "encoder.layers.1.fc1.bias"
    else:
        sd["encoder.layers.0.fc2.weight"] = torch.zeros(3, 3)
        key = "encoder.layers.0.fc2.weight"
    ckpt["task_state"] = {}
    bad = tmp_path / "bad.pt"
    with _fairseq_dictionary_class():
        torch.save(ckpt, bad)
    with pytest.raises(CheckpointError, match=key.replace(".", r"\.")):
        load_fairseq(bad)


def test_conv_spec_is_parsed_not_evaluated():
    assert len(parse_conv_layers("[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2")) == 7
    with pytest.raises(CheckpointError):
        parse_conv_layers("__import__('os').system('true')")
