"""The bundled default: a consistent pipeline that `encode`, `continue` and `resynth` use with no
--model flag."""

import json
from pathlib import Path

import numpy as np
import soundfile as sf

import textless
from textless.cli import main
from textless.pipeline import load_pipeline
from textless.units import read_units

BUNDLE = Path(textless.__file__).parent / "assets" / "default"


def _speechlike(path, seconds=1.5):
    """A voiced, formant-ish 16 kHz signal (no TTS needed)."""
    t = np.arange(int(16000 * seconds)) / 16000
    wav = sum(0.1 / k * np.sin(2 * np.pi * 120 * k * t) for k in range(1, 12)) * (1 + np.sin(2 * np.pi * 3 * t))
    sf.write(path, wav.astype(np.float32), 16000)
    return path


def test_bundle_is_complete_small_and_described():
    spec = json.loads((BUNDLE / "pipeline.json").read_text())
    pipe = load_pipeline("default")
    assert pipe.ulm is not None and pipe.vocoder is not None
    assert pipe.quantizer.vocab_size == spec["vocab_size"] == pipe.ulm.vocab_size == pipe.vocoder.vocab_size
    assert sum(f.stat().st_size for f in BUNDLE.iterdir()) < 60e6
    assert (BUNDLE / "MODEL_CARD.md").is_file()


def test_continue_and_resynth_without_flags_use_the_default(tmp_path):
    wav = _speechlike(tmp_path / "p.wav")
    assert main(["resynth", str(wav), "-o", str(tmp_path / "r.wav")]) == 0
    out, rate = sf.read(tmp_path / "r.wav")
    assert rate == 16000 and out.size > 0 and np.isfinite(out).all()
    assert main(["continue", str(wav), "--out", str(tmp_path / "c"), "--max-new-tokens", "10",
                 "--seed", "0"]) == 0
    (cont,) = read_units(tmp_path / "c" / "continuations.jsonl")
    assert cont.vocab_size == load_pipeline("default").quantizer.vocab_size and len(cont) > 0
    assert list((tmp_path / "c").glob("*.wav"))


def test_default_assets_keep_loading_under_their_written_kinds(tmp_path):
    """Each packaged file loads as the role its file name says; a unit LM written with the older
    kind spelling "ulm" (v1/v2 bundles) still loads as "ulm.transformer"."""
    import pytest
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from textless.checkpoint import read_kind, split_kind
    from textless.components import load_component
    from textless.errors import CheckpointError

    folder = BUNDLE
    written = {}
    for path in sorted(folder.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as f:
            written[path.stem] = f.metadata()["kind"]
        role = split_kind(read_kind(path))[0]
        assert role == path.stem
        model = load_component(path, role=role)
        assert not getattr(model, "training", False)
    assert written == {"encoder": "encoder.logmel", "quantizer": "quantizer.kmeans",
                       "ulm": "ulm.transformer", "vocoder": "vocoder.vocos"}
    with safe_open(str(folder / "ulm.safetensors"), framework="pt") as f:
        meta = dict(f.metadata())
    save_file(load_file(folder / "ulm.safetensors"), tmp_path / "old.safetensors", metadata={**meta, "kind": "ulm"})
    assert read_kind(tmp_path / "old.safetensors") == "ulm.transformer"
    assert load_component(tmp_path / "old.safetensors", role="ulm").vocab_size == 50
    with pytest.raises(CheckpointError, match="holds a ulm.transformer checkpoint, not a vocoder"):
        load_component(tmp_path / "old.safetensors", role="vocoder")
