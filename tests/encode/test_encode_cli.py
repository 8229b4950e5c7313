"""`textless encode` / `features` / `train kmeans`: order, formats, errors.tsv, resume, --model folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from textless.cli import main


def _encode(tiny_model, out, *inputs, extra=()):
    ckpt, km, layer = tiny_model
    return main(["encode", "--checkpoint", str(ckpt), "--layer", str(layer), "--kmeans", str(km),
                 "-o", str(out), *map(str, inputs), *extra])


def _expected_units(tiny_model, path):
    """Per-file reference: load, one-item forward, argmin; no batching, no runner."""
    from textless.audio import load_audio
    from textless.encoders.fairseq_import import load_encoder
    from textless.quantizers.kmeans import load_quantizer

    ckpt, km, layer = tiny_model
    enc, q = load_encoder(ckpt), load_quantizer(km)
    wav, _ = load_audio(path, 16000)
    feats, _ = enc.features(torch.from_numpy(wav)[None], layer=layer)
    return q.assign(feats[0])


def test_encode_keeps_order_dedups_and_lists_errors(tiny_model, corpus, tmp_path):
    out = tmp_path / "units.jsonl"
    files = [corpus / "kal_2.wav", corpus / "broken.wav", corpus / "slt_0.wav", corpus / "kal_0.wav"]
    assert _encode(tiny_model, out, *files, extra=["--max-batch-seconds", "3"]) == 0
    records = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["kal_2", "slt_0", "kal_0"]  # input order, broken left out
    for r, f in zip(records, [files[0], files[2], files[3]]):
        frames = _expected_units(tiny_model, f)
        expanded = np.repeat(r["units"], r["durations"])
        assert np.array_equal(expanded, frames.numpy())  # batched run == per-file reference
        assert all(a != b for a, b in zip(r["units"], r["units"][1:]))  # deduplicated
    errors = (tmp_path / "units.jsonl.errors.tsv").read_text().splitlines()
    assert errors[0] == "id\tpath\treason" and errors[1].startswith("broken\t")
    assert len(errors) == 2 and not (tmp_path / "units.jsonl.partial").exists()


def test_fairseq_format_and_no_dedup(tiny_model, corpus, tmp_path):
    out = tmp_path / "units.km"
    assert _encode(tiny_model, out, corpus / "slt_1.wav", extra=["--no-dedup", "--format", "fairseq"]) == 0
    (line,) = out.read_text().splitlines()
    sid, units = line.split("|")
    assert sid == "slt_1" and [int(u) for u in units.split()] == _expected_units(tiny_model, corpus / "slt_1.wav").tolist()


def test_killed_run_resumes_to_the_same_file(tiny_model, corpus, tmp_path, monkeypatch):
    from textless import corpus as corpus_mod

    full = tmp_path / "full.jsonl"
    assert _encode(tiny_model, full, corpus, extra=["--max-batch-seconds", "2"]) == 0
    out = tmp_path / "resumed.jsonl"
    real_add, calls = corpus_mod.Journal.add, []

    def dying_add(self, records):
        if len(calls) == 3:
            with open(self.path, "a") as f:  # a kill in the middle of a write
                f.write('{"i": 4, "line": "{\\"id\\": \\"trunc')
            raise KeyboardInterrupt
        calls.append(1)
        real_add(self, records)

    monkeypatch.setattr(corpus_mod.Journal, "add", dying_add)
    assert _encode(tiny_model, out, corpus, extra=["--max-batch-seconds", "2"]) == 130
    assert not out.exists() and (tmp_path / "resumed.jsonl.partial").exists()
    monkeypatch.setattr(corpus_mod.Journal, "add", real_add)
    redone = []
    monkeypatch.setattr(corpus_mod, "_load_batch", lambda items, load, f=corpus_mod._load_batch: (
        redone.extend(it.id for it in items), f(items, load))[1])
    assert _encode(tiny_model, out, corpus, extra=["--max-batch-seconds", "2"]) == 0
    assert out.read_bytes() == full.read_bytes()
    assert 0 < len(redone) < 7  # the finished batches were not encoded again
    assert (tmp_path / "resumed.jsonl.errors.tsv").read_text() == (tmp_path / "full.jsonl.errors.tsv").read_text()


def test_model_folder_equals_checkpoint_and_kmeans(tiny_model, corpus, tmp_path):
    from textless.encoders.fairseq_import import load_encoder
    from textless.pipeline import save_pipeline_dir

    ckpt, km, layer = tiny_model
    d = tmp_path / "pipe"
    d.mkdir()
    load_encoder(ckpt).save(d / "encoder.safetensors")
    (d / "quantizer.safetensors").write_bytes(km.read_bytes())
    save_pipeline_dir(d, name="tiny", layer=layer,
                      files={"encoder": "encoder.safetensors", "quantizer": "quantizer.safetensors"})
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert main(["encode", "--model", str(d), "-o", str(a), str(corpus)]) == 0
    assert _encode(tiny_model, b, corpus) == 0
    strip = lambda p: [{k: v for k, v in json.loads(ln).items() if k != "model"} for ln in p.read_text().splitlines()]  # noqa: E731
    assert strip(a) == strip(b) and len(strip(a)) == 6


def test_features_writes_npy_per_file(tiny_model, corpus, tmp_path):
    from textless.encoders.fairseq_import import load_encoder
    from textless.audio import load_audio

    ckpt, _, _ = tiny_model
    out = tmp_path / "feats"
    assert main(["features", "--checkpoint", str(ckpt), "--layer", "3", "--out", str(out), str(corpus)]) == 0
    enc = load_encoder(ckpt)
    for name in ("slt_0", "kal_1"):
        arr = np.load(out / f"{name}.npy")
        wav, _ = load_audio(corpus / f"{name}.wav", 16000)
        ref, n = enc.features(torch.from_numpy(wav)[None], layer=3)
        assert arr.dtype == np.float32 and arr.shape == (int(n), 48)
        np.testing.assert_allclose(arr, ref[0].numpy(), atol=1e-4)
    assert (out / "errors.tsv").read_text().count("\n") == 2  # header + broken.wav


def test_train_kmeans_cli(tiny_model, corpus, tmp_path):
    from textless.components import load_component

    ckpt, _, _ = tiny_model
    out = tmp_path / "km"
    args = ["train", "kmeans", "--checkpoint", str(ckpt), "--layer", "1", "-k", "5",
            "--max-frames", "2000", "--steps", "5", "--out", str(out), str(corpus)]
    assert main(args) == 0
    q = load_component(out / "quantizer.safetensors")
    assert (q.vocab_size, q.dim, q.cfg.layer, q.cfg.encoder) == (5, 48, 1, "tiny")


@pytest.mark.parametrize("argv, message", [
    (["encode", "--checkpoint", "x.pt", "--layer", "1", "-o", "x.jsonl", "a.wav"], "give --model"),
    (["encode", "--checkpoint", "nope.pt", "--kmeans", "k", "-o", "x.jsonl", "a.wav"], "no such"),
    (["encode", "--model", "no-such-bundle", "-o", "x.jsonl", "a.wav"], "no-such-bundle"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("textless: error:") and message in err and "\n" not in err


def test_encode_without_flags_uses_the_bundled_default(tmp_path):
    import numpy as np

    from textless.audio import write_audio
    from textless.units import read_units

    write_audio(tmp_path / "a.wav", np.random.default_rng(0).normal(0, 0.1, 16000).astype("float32"), 16000)
    assert main(["encode", "-o", str(tmp_path / "o.jsonl"), str(tmp_path / "a.wav")]) == 0
    (utt,) = read_units(tmp_path / "o.jsonl")
    assert utt.model == "default" and utt.frame_rate == 50 and len(utt.units) > 0


def test_layer_must_match_kmeans(tiny_model, corpus, tmp_path, capsys):
    ckpt, km, _ = tiny_model
    assert main(["encode", "--checkpoint", str(ckpt), "--layer", "3", "--kmeans", str(km),
                 "-o", str(tmp_path / "o.jsonl"), str(corpus)]) == 2
    assert "layer 2" in capsys.readouterr().err


def test_bf16_encode_and_features(tiny_model, corpus, tmp_path):
    """--bf16 runs the encoder under bfloat16 autocast: float32 .npy files close to fp32, and
    units mostly the fp32 units."""
    ckpt, _, _ = tiny_model
    out = tmp_path / "feats"
    assert main(["features", "--checkpoint", str(ckpt), "--layer", "3", "--out", str(out), "--bf16",
                 str(corpus / "slt_0.wav")]) == 0
    from textless.audio import load_audio
    from textless.encoders.fairseq_import import load_encoder

    wav, _ = load_audio(corpus / "slt_0.wav", 16000)
    ref, _ = load_encoder(ckpt).features(torch.from_numpy(wav)[None], layer=3)
    arr = np.load(out / "slt_0.npy")
    assert arr.dtype == np.float32 and arr.shape == tuple(ref[0].shape)
    assert np.linalg.norm(arr - ref[0].numpy()) / np.linalg.norm(ref[0].numpy()) < 0.03

    units = tmp_path / "units.jsonl"
    assert _encode(tiny_model, units, corpus / "slt_0.wav", extra=["--bf16", "--no-dedup"]) == 0
    got = np.array(json.loads(units.read_text())["units"])
    expected = _expected_units(tiny_model, corpus / "slt_0.wav").numpy()
    assert got.shape == expected.shape and (got == expected).mean() > 0.9


def _kill_after_batches(monkeypatch, n):
    """Make the next run die (KeyboardInterrupt, as a kill) after journaling ``n`` batches; returns
    a function that restores the journal."""
    from textless import corpus as corpus_mod

    real_add, calls = corpus_mod.Journal.add, []

    def dying_add(self, records):
        if len(calls) == n:
            raise KeyboardInterrupt
        calls.append(1)
        real_add(self, records)

    monkeypatch.setattr(corpus_mod.Journal, "add", dying_add)
    return lambda: monkeypatch.setattr(corpus_mod.Journal, "add", real_add)


def test_resume_reencodes_an_input_rewritten_since_the_kill(tiny_model, corpus, tmp_path, monkeypatch):
    out, args = tmp_path / "units.jsonl", ["--max-batch-seconds", "2"]
    restore = _kill_after_batches(monkeypatch, 3)
    assert _encode(tiny_model, out, corpus, extra=args) == 130
    restore()
    journal = [json.loads(ln) for ln in (tmp_path / "units.jsonl.partial").read_text().splitlines()[1:]]
    done = sorted(corpus.glob("*.wav"))  # collect_inputs order: the journal's indices
    changed = next(done[r["i"]] for r in journal if "line" in r)  # an input whose units are journaled
    other = next(p for p in done if p != changed and p.name != "broken.wav")
    changed.write_bytes(other.read_bytes())  # rewritten with other audio: other size and mtime
    assert _encode(tiny_model, out, corpus, extra=args) == 0
    fresh = tmp_path / "fresh.jsonl"
    assert _encode(tiny_model, fresh, corpus, extra=args) == 0
    assert out.read_bytes() == fresh.read_bytes()  # the stale units of `changed` were not reused
    by_id = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert by_id[changed.stem]["units"] == by_id[other.stem]["units"]


def test_resume_starts_over_when_the_kmeans_file_changed(tiny_model, corpus, tmp_path, monkeypatch):
    from safetensors import safe_open
    from safetensors.torch import save_file

    ckpt, km, layer = tiny_model
    my_km = tmp_path / "km.safetensors"
    my_km.write_bytes(km.read_bytes())
    model = (ckpt, my_km, layer)
    out, args = tmp_path / "units.jsonl", ["--max-batch-seconds", "2", "--no-dedup"]
    restore = _kill_after_batches(monkeypatch, 3)
    assert _encode(model, out, corpus, extra=args) == 130
    restore()
    with safe_open(str(my_km), framework="pt") as f:  # same K, layer and name; other centroids
        meta, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    tensors = {k: v.flip(0).contiguous() for k, v in tensors.items()}  # unit k becomes K-1-k
    save_file(tensors, str(my_km), metadata=meta)
    from textless import corpus as corpus_mod

    redone = []
    monkeypatch.setattr(corpus_mod, "_load_batch", lambda items, load, f=corpus_mod._load_batch: (
        redone.extend(it.id for it in items), f(items, load))[1])
    assert _encode(model, out, corpus, extra=args) == 0
    assert sorted(redone) == sorted(p.stem for p in corpus.glob("*.wav"))  # everything re-encoded
    old = tmp_path / "old.jsonl"
    assert _encode(tiny_model, old, corpus, extra=args) == 0
    new_units = [json.loads(ln)["units"] for ln in out.read_text().splitlines()]
    old_units = [json.loads(ln)["units"] for ln in old.read_text().splitlines()]
    assert len(new_units) == len(old_units) == 6
    assert all(n == [11 - u for u in o] for n, o in zip(new_units, old_units))
