"""ABX: parity with zrc-abx2 (libri-light) and relations that must hold."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from textless.eval.abx import AbxConfig, abx
from textless.eval.features import load_feature_dir
from textless.eval.item import read_item_file

TOL = 0.0005  # 0.05 percentage points, as a fraction


def reference_scores(zrc_abx2, feats_dir, item_path, frame_shift):
    args = zrc_abx2.EvalArgs(path_data=str(feats_dir), path_item_file=str(item_path),
                             feature_size=frame_shift, context_mode="within",
                             speaker_mode="all", distance_mode="cosine")
    with contextlib.redirect_stdout(io.StringIO()):
        results = zrc_abx2.EvalABX().eval_abx(args)
    return {r["abx-s-condition"]: r["score"] for r in results}


def ours(feats_dir, item_path, frame_shift, **kw):
    item = read_item_file(item_path)
    feats = load_feature_dir(feats_dir, only=set(item.files))
    return abx(feats, item, AbxConfig(frame_shift, **kw))


@pytest.mark.parametrize("dataset", ["synthetic_abx", "flite_abx"])
def test_legacy_slicing_equals_zrc_abx2(dataset, request, zrc_abx2):
    """Same features, item file and seed: within and across equal zrc-abx2's within 0.05 points
    (the synthetic set has groups > max_size_group, so the seeded subsampling is compared too)."""
    feats_dir, item_path = request.getfixturevalue(dataset)
    ref = reference_scores(zrc_abx2, feats_dir, item_path, 0.01)
    got = ours(feats_dir, item_path, 0.01, legacy_slicing=True)
    assert 0.0 < got.within < 0.5 and 0.0 < got.across < 0.5
    assert abs(got.within - ref["within"]) <= TOL
    assert abs(got.across - ref["across"]) <= TOL


def test_subsampling_is_seeded(synthetic_abx):
    feats_dir, item_path = synthetic_abx
    a = ours(feats_dir, item_path, 0.01, seed=1)
    b = ours(feats_dir, item_path, 0.01, seed=1)
    c = ours(feats_dir, item_path, 0.01, seed=2)
    assert (a.within, a.across) == (b.within, b.across)
    assert (a.within, a.across) != (c.within, c.across)


def test_fixed_slicing_keeps_one_more_frame(synthetic_abx):
    """The fixed convention includes the last frame: items are longer, so scores differ."""
    feats_dir, item_path = synthetic_abx
    legacy = ours(feats_dir, item_path, 0.01, legacy_slicing=True, speakers=("within",))
    fixed = ours(feats_dir, item_path, 0.01, speakers=("within",))
    assert legacy.items == fixed.items
    assert legacy.within != fixed.within


def test_separable_and_random_features(tmp_path):
    """One-hot phone identity gives 0 error; features independent of the phone give ~50 %."""
    from textless.eval.item import write_item_file

    rng = np.random.default_rng(0)
    phones = ["a", "e", "i"]
    rows = []
    (tmp_path / "onehot").mkdir()
    (tmp_path / "noise").mkdir()
    for f in range(6):
        seq = rng.integers(0, 3, 40)
        frames = np.repeat(np.eye(3, dtype=np.float32)[seq], 4, axis=0)
        np.save(tmp_path / "onehot" / f"u{f}.npy", frames)
        np.save(tmp_path / "noise" / f"u{f}.npy", rng.normal(size=frames.shape).astype(np.float32))
        for k in range(1, 39):
            rows.append((f"u{f}", k * 0.04, (k + 1) * 0.04, phones[seq[k]], phones[seq[k - 1]],
                         phones[seq[k + 1]], f"s{f % 2}"))
    item = write_item_file(tmp_path / "x.item", rows)
    r = ours(tmp_path / "onehot", item, 0.01)
    assert r.within == 0.0 and r.across == 0.0
    r = ours(tmp_path / "noise", item, 0.01, max_size_group=None)
    assert abs(r.within - 0.5) < 0.08 and abs(r.across - 0.5) < 0.08
    # per-pair errors average to the overall score (the last averaging step)
    assert r.within == pytest.approx(np.mean(list(r.by_pair["within"].values())))


def test_cli_exact_form(synthetic_abx, tmp_path):
    """The CLI writes the API's scores (which equal zrc-abx2's, see above) as fractions."""
    from textless.cli import main

    feats_dir, item_path = synthetic_abx
    out = tmp_path / "result.json"
    assert main(["eval", "abx", str(feats_dir), str(item_path), "--frame-shift", "0.01",
                 "--speaker-mode", "both", "--legacy-slicing", "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    ref = ours(feats_dir, item_path, 0.01, legacy_slicing=True)
    assert (result["within"], result["across"]) == (ref.within, ref.across)
    assert main(["eval", "abx", str(feats_dir), str(item_path), "--frame-shift", "0.01",
                 "--speaker-mode", "within", "-o", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["across"] is None and 0 < result["within"] < 0.5


def test_cli_user_errors(synthetic_abx, tmp_path, capsys):
    from textless.cli import main

    feats_dir, item_path = synthetic_abx
    assert main(["eval", "abx", str(feats_dir), str(item_path), "-o", "x.json"]) == 2
    assert "--frame-shift" in capsys.readouterr().err
    bad = tmp_path / "bad.item"
    bad.write_text("#header\nutt0 0.1 0.2 a b\n")
    assert main(["eval", "abx", str(feats_dir), str(bad), "--frame-shift", "0.01",
                 "-o", "x.json"]) == 2
    assert "expected 7 fields" in capsys.readouterr().err


def test_compiled_and_numpy_cell_loops_agree(synthetic_abx, monkeypatch):
    """The numba cell loops (pair keys, cell errors) equal the numpy versions."""
    from textless.eval import cells

    feats_dir, item_path = synthetic_abx
    fast = ours(feats_dir, item_path, 0.01)
    monkeypatch.setattr(cells, "_kernels", lambda: None)
    slow = ours(feats_dir, item_path, 0.01)
    assert fast.within == pytest.approx(slow.within, abs=1e-12)
    assert fast.across == pytest.approx(slow.across, abs=1e-12)
    for mode in ("within", "across"):
        assert fast.by_pair[mode] == pytest.approx(slow.by_pair[mode], abs=1e-12)


def test_kl_needs_posteriorgrams(synthetic_abx, tmp_path):
    """KL on features with negative values is a user error; on softmax posteriors it works and
    a monotone transform of the same information still separates the phones."""
    from textless.errors import TextlessError

    feats_dir, item_path = synthetic_abx
    with pytest.raises(TextlessError, match="non-negative"):
        ours(feats_dir, item_path, 0.01, distance="kl")
    post = tmp_path / "post"
    post.mkdir()
    for f in feats_dir.glob("*.npy"):
        x = np.load(f)
        e = np.exp(x - x.max(1, keepdims=True))
        np.save(post / f.name, (e / e.sum(1, keepdims=True)).astype(np.float32))
    r = ours(post, item_path, 0.01, distance="kl_symmetric", speakers=("within",))
    assert 0.0 <= r.within < 0.25
