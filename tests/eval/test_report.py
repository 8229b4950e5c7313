"""`textless eval report`: JSON + Markdown + PNG plots, from result files or a pipeline."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from textless.eval.report import build_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_build_report_from_results(tmp_path):
    results = {
        "model": "m", "dataset": None,
        "abx": {"within": 0.125, "across": 0.25,
                "by_pair": {"within": {"a-b": 0.1, "b-a": 0.15}, "across": {"a-b": 0.25}}},
        "lexical": {"all": 0.6, "invocab": 0.7},
        "wer": {"wer_reference": 0.1, "wer_resynthesis": 0.3, "wer_delta": 0.2},
        "units": {"counts": {"0": 5, "3": 2}, "used_units": 2, "vocab_size": 4,
                  "vocab_bps": 100.0, "entropy_bps": 86.3},
    }
    paths = build_report(results, tmp_path / "rep")
    assert json.loads(paths["json"].read_text())["abx"]["within"] == 0.125
    md = paths["markdown"].read_text()
    for line in ("| ABX within speaker | 12.50 % |", "| ABX across speaker | 25.00 % |",
                 "| sWUGGY in-vocabulary | 70.00 % |", "| WER delta | 20.00 % |",
                 "| bitrate (log2 V) | 100.0 bps |", "![abx_pairs](abx_pairs.png)"):
        assert line in md
    assert sorted(p.name for p in paths["plots"]) == ["abx_pairs.png", "unit_frequency.png",
                                                       "wer.png"]
    assert all(p.read_bytes()[:8] == PNG for p in paths["plots"])


def test_cli_report_with_pipeline(tiny_pipeline, speech_dir, tmp_path):
    """A pipeline on a ZeroSpeech-layout folder: the report's ABX equals `abx` on the same
    features, and its unit counts are those of the encoded files."""
    from textless.cli import main
    from textless.eval.abx import AbxConfig, abx
    from textless.eval.features import pipeline_features
    from textless.eval.item import read_item_file, write_item_file
    from textless.pipeline import load_pipeline

    sub = tmp_path / "ds" / "phonetic" / "dev-clean"
    sub.mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for wav in sorted(speech_dir.glob("*.wav")):
        shutil.copy(wav, sub / wav.name)
        seq = "".join(rng.choice(list("ab"), 24))
        for k in range(1, 23):
            rows.append((wav.stem, k * 0.05, (k + 1) * 0.05, seq[k], seq[k - 1], seq[k + 1],
                         wav.stem.split("_")[0]))
    item = write_item_file(sub / "dev-clean.item", rows)
    out = tmp_path / "report"
    assert main(["eval", "report", "--model", str(tiny_pipeline), "--dataset",
                 str(tmp_path / "ds"), "--out", str(out)]) == 0
    rep = json.loads((out / "report.json").read_text())
    pipe = load_pipeline(str(tiny_pipeline))
    expected = abx(pipeline_features(pipe, sub, "dense"), read_item_file(item),
                   AbxConfig(1 / pipe.frame_rate))
    assert rep["abx"]["within"] == pytest.approx(expected.within)
    assert rep["abx"]["across"] == pytest.approx(expected.across)
    total = sum(len(pipe.encode_file(w).units) for w in sorted(sub.glob("*.wav")))
    assert sum(rep["units"]["counts"].values()) == total
    assert (out / "unit_frequency.png").read_bytes()[:8] == PNG
    assert "ABX within speaker" in (out / "report.md").read_text()
    # nothing to report is a user error
    assert main(["eval", "report", "--out", str(tmp_path / "empty")]) == 2


def test_report_resynthesis_wer(tiny_pipeline, speech_dir, tmp_path, monkeypatch):
    """With a vocoder the report resynthesizes the phonetic wavs and adds WER/PER (pocketsphinx,
    reference text = ASR of the original): the original decodes as itself (WER 0) and a
    noise "vocoder" is worse."""
    pytest.importorskip("pocketsphinx")
    import torch

    from textless import pipeline as pl
    from textless.eval.report import collect

    class NoiseVocoder:
        sample_rate, hop_length, vocab_size = 16000, 160, 8

        def synthesize(self, units, speaker=None):
            n = units.num_frames * self.hop_length
            return 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(0))

    real = pl.load_pipeline_dir(tiny_pipeline)
    monkeypatch.setattr(pl, "load_pipeline", lambda model, device="cpu": pl.Pipeline(
        real.encoder, real.quantizer, vocoder=NoiseVocoder(), name="noise"))
    sub = tmp_path / "ds" / "phonetic" / "dev-clean"
    sub.mkdir(parents=True)
    shutil.copy(speech_dir / "slt_0.wav", sub / "a.wav")
    results = collect(model="noise", dataset=tmp_path / "ds", max_files=1, work_dir=tmp_path / "w")
    wer = results["wer"]
    assert wer["utterances"] == 1 and wer["wer_reference"] == 0.0
    assert wer["wer_resynthesis"] > 0.5 and wer["per_resynthesis"] > wer["per_reference"]
    assert (tmp_path / "w" / "resynthesis" / "dev-clean" / "a.wav").is_file()
    paths = build_report(results, tmp_path / "rep")
    assert (tmp_path / "rep" / "wer.png").read_bytes()[:8] == PNG
    assert "| WER resynthesis |" in paths["markdown"].read_text()
