"""k-means training resumes after a kill: the reservoir state round-trips, an interrupted pass
continues where its last checkpoint stopped, and the centroids equal an uninterrupted run's.
(A real SIGKILL of the CLI is in tests/test_kill_resume.py.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textless import audio
from textless.cli import main
from textless.data.manifest import folder_items
from textless.errors import TextlessError
from textless.quantizers.kmeans import (
    FrameReservoir, state_dir_for, train_kmeans_file, train_kmeans_on_corpus,
)


def test_reservoir_restored_from_its_state_continues_identically():
    rng = np.random.default_rng(1)
    chunks = [rng.normal(size=(n, 3)).astype(np.float32) for n in (40, 7, 90, 33, 120)]
    straight = FrameReservoir(100, seed=5)
    for c in chunks:
        straight.add(c)
    first = FrameReservoir(100, seed=5)
    for c in chunks[:3]:
        first.add(c)
    state = first.state()
    resumed = FrameReservoir.from_state(state)
    for c in chunks[3:]:
        resumed.add(c)
    assert resumed.seen == straight.seen == 290
    assert np.array_equal(resumed.sample(), straight.sample())


def test_reservoir_state_survives_torch_save_with_weights_only(tmp_path):
    r = FrameReservoir(10, seed=0)
    r.add(np.arange(60, dtype=np.float32).reshape(30, 2))
    torch.save(r.state(), tmp_path / "s.pt")
    back = FrameReservoir.from_state(torch.load(tmp_path / "s.pt", weights_only=True))
    more = np.ones((25, 2), np.float32)
    r.add(more)
    back.add(more)
    assert np.array_equal(back.sample(), r.sample()) and back.seen == r.seen == 55


@pytest.fixture(scope="module")
def mfcc():
    from textless.encoders.spectral import SpectralEncoder, mfcc_config

    return SpectralEncoder(mfcc_config()).eval()


@pytest.fixture
def paths(speech_dir, tmp_path):
    files = sorted(speech_dir.glob("*.wav"))
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF not a wav")
    return files[:3] + [bad] + files[3:]  # 7 inputs, one unreadable


def _train(mfcc, paths, **kw):
    return train_kmeans_on_corpus(mfcc, paths, 6, layer=None, max_frames=120, seed=4, niter=8,
                                  show_progress=False, **kw)


def test_interrupted_kmeans_pass_resumes_to_the_same_centroids(mfcc, paths, tmp_path, monkeypatch):
    reference = _train(mfcc, paths)
    state = tmp_path / "km.state"
    real_load, calls = audio.load_audio, []

    def dying_load(*a, **kw):
        calls.append(a[0])
        if len(calls) == 5:  # files 1-4 done, state saved after 2 and 4
            raise KeyboardInterrupt
        return real_load(*a, **kw)

    monkeypatch.setattr(audio, "load_audio", dying_load)
    with pytest.raises(KeyboardInterrupt):
        _train(mfcc, paths, state_dir=state, save_every=2)
    saved = torch.load(state / "state.pt", weights_only=True)
    assert saved["files_done"] == 4
    assert saved["reservoir"]["seen"] > 120  # full: later frames replace kept ones at random
    calls.clear()
    resumed = _train(mfcc, paths, state_dir=state, save_every=2)
    assert calls == paths[4:]  # only the files after the checkpoint are read again
    assert torch.equal(resumed.centers, reference.centers)
    assert torch.load(state / "state.pt", weights_only=True)["files_done"] == len(paths)


def test_kmeans_state_of_other_settings_is_refused(mfcc, paths, tmp_path):
    state = tmp_path / "km.state"
    _train(mfcc, paths[:3], state_dir=state, save_every=1)
    with pytest.raises(TextlessError, match="other inputs"):
        train_kmeans_on_corpus(mfcc, paths[:3], 6, layer=None, max_frames=120, seed=5, niter=8,
                               show_progress=False, state_dir=state)
    with pytest.raises(TextlessError, match="other inputs"):
        _train(mfcc, paths[:4], state_dir=state)
    # K and the iterations do not enter the pass: the finished reservoir is reused
    again = train_kmeans_on_corpus(mfcc, paths[:3], 4, layer=None, max_frames=120, seed=4, niter=3,
                                   show_progress=False, state_dir=state)
    assert again.vocab_size == 4


def test_train_kmeans_file_writes_out_and_removes_its_state(mfcc, paths, tmp_path):
    out = tmp_path / "km.safetensors"
    km = train_kmeans_file(mfcc, paths, 6, out, layer=None, max_frames=120, seed=4, niter=8,
                           show_progress=False, save_every=3)
    assert out.is_file() and not state_dir_for(out).exists()
    assert torch.equal(km.centers, _train(mfcc, paths).centers)


def test_train_kmeans_cli_writes_a_run_folder(speech_dir, tmp_path, capsys):
    from textless.components import load_component
    from textless.trainer import read_log

    out = tmp_path / "km"
    base = ["train", "kmeans", "--spectral", "mfcc", "-k", "4", "--max-frames", "500", str(speech_dir)]
    args = base + ["--steps", "3", "--out", str(out)]
    assert main(args + ["--save-every", "0"]) == 2
    assert "--save-every" in capsys.readouterr().err
    assert main(args + ["--save-every", "2"]) == 0
    n = len(folder_items(speech_dir))
    assert torch.load(out / "state.pt", weights_only=True)["files_done"] == n  # kept: the run is done
    records = read_log(out)
    passes = [r["files_done"] for r in records if "files_done" in r]
    assert passes == sorted({*range(2, n + 1, 2), n})  # every --save-every files, and the last
    lloyd = [r for r in records if "step" in r]
    assert [r["step"] for r in lloyd] == [1, 2, 3]
    assert all(a["objective"] >= b["objective"] for a, b in zip(lloyd, lloyd[1:]))  # Lloyd never rises
    assert load_component(out / "quantizer.safetensors").vocab_size == 4
    # the spellings before run folders: --niter, and --out FILE.safetensors (state removed at the end)
    legacy = tmp_path / "km.safetensors"
    assert main(base + ["--niter", "3", "--out", str(legacy)]) == 0
    err = capsys.readouterr().err
    assert "--niter is deprecated, use --steps" in err and "a .safetensors file is deprecated" in err
    assert legacy.is_file() and not (tmp_path / "km.safetensors.state").exists()
    assert torch.equal(load_component(legacy).centers, load_component(out / "quantizer.safetensors").centers)
