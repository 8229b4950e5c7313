"""User errors of the CLI (issue 18): ids that would leave --out, runs where inputs failed,
seeds out of range, refused pickles, duplicate ids. Each is one line, exit status 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch

from textless.audio import write_audio
from textless.cli import SEED_MAX, main
from textless.errors import TextlessError
from textless.units import Units, write_units


class Opaque:
    """Pickled by reference: ``torch.load(weights_only=True)`` must refuse to build it."""


def _err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("textless: error: "), err
    return lines[0]


def _wav(path, seconds=0.5, freq=220.0):
    t = np.arange(int(16000 * seconds)) / 16000
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_audio(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), 16000)


def _units_file(path, ids, vocab_size=16):
    g = torch.Generator().manual_seed(0)
    utts = [Units(torch.randint(0, vocab_size, (12,), generator=g), frame_rate=50.0,
                  vocab_size=vocab_size, id=i) for i in ids]
    return write_units(path, utts)


def _wavs_under(path):
    return sorted(p.relative_to(path) for p in path.rglob("*.wav"))


# ----------------------------------------------------------------------------- 2: ids stay in --out
def test_continue_refuses_unit_ids_that_are_not_file_names(tiny_pipeline_dir, tmp_path, capsys):
    out = tmp_path / "out" / "a" / "b"
    common = ["continue", "--model", str(tiny_pipeline_dir), "--max-new-tokens", "3", "--seed", "0",
              "--out", str(out)]
    ok = _units_file(tmp_path / "ok.jsonl", ["ok"])
    assert main(common + ["--units", str(ok)]) == 0
    assert _wavs_under(tmp_path) == [(out / "ok-0.wav").relative_to(tmp_path)]
    capsys.readouterr()
    for bad in ("../../escaped", str(tmp_path / "abs")):
        units = _units_file(tmp_path / "bad.jsonl", [bad])
        assert main(common + ["--units", str(units)]) == 2
        assert "cannot name a file" in _err_line(capsys)
    assert _wavs_under(tmp_path) == [(out / "ok-0.wav").relative_to(tmp_path)]  # nothing new, anywhere


def test_resynth_refuses_bad_unit_ids_before_writing_any_wav(tiny_pipeline_dir, tmp_path, capsys):
    units = _units_file(tmp_path / "u.jsonl", ["fine", "../escaped"])
    assert main(["resynth", "--model", str(tiny_pipeline_dir), "--units", str(units),
                 "--out", str(tmp_path / "out")]) == 2
    assert "'../escaped'" in _err_line(capsys)
    assert _wavs_under(tmp_path) == []  # not even the valid first utterance


def test_feature_ids_that_are_not_file_names_are_refused(tmp_path):
    from textless.corpus import Item, extract_features
    from textless.encoders.spectral import SpectralEncoder, mfcc_config

    wav = _wav(tmp_path / "in" / "a.wav")
    encoder = SpectralEncoder(mfcc_config())
    out = tmp_path / "feats"
    extract_features(encoder, [Item(0, "a", wav)], out, layer=None, show_progress=False)
    assert (out / "a.npy").is_file()
    for bad in ("../escaped", str(tmp_path / "abs"), "x" * 240):
        with pytest.raises(TextlessError, match="cannot name a file"):
            extract_features(encoder, [Item(0, bad, wav)], out, layer=None, show_progress=False)
    assert sorted(p.name for p in tmp_path.rglob("*.npy")) == ["a.npy"]


def test_s2st_targets_refuses_a_split_that_is_not_a_file_name(tiny_pipeline_dir, tmp_path, capsys):
    a = _wav(tmp_path / "a.wav")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text(f"p1\t{a}\t{a}\n")
    assert main(["s2st-targets", "--model", str(tiny_pipeline_dir), "--pairs", str(pairs),
                 "--split", "../escaped", "--out", str(tmp_path / "out")]) == 2
    _err_line(capsys)
    assert not list(tmp_path.glob("escaped*"))


@pytest.mark.parametrize("argv", [
    ["data", "synth", "--generate", "1", "--voices", "espeak:/../../../escaped", "--workers", "1"],
    ["data", "lexical", "--voices", "flite:slt", "--max-words", "1", "--workers", "1",
     "--split", "../../escaped"],
])
def test_data_names_from_user_input_cannot_leave_out(argv, tmp_path, capsys):
    if shutil.which("espeak-ng") is None or shutil.which("flite") is None:
        pytest.skip("espeak-ng and flite are needed")
    assert main(argv + ["--out", str(tmp_path / "c")]) == 2
    assert "cannot name a file" in _err_line(capsys)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "c" / "escaped").exists()


# ----------------------------------------------------------------------------- 5: failed inputs
def test_encode_with_no_readable_input_exits_2_naming_the_errors_file(tiny_pipeline_dir, tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["encode", "--model", str(tiny_pipeline_dir), "-o", str(out),
                 str(tmp_path / "nonexistent.wav")]) == 2
    line = _err_line(capsys)
    errors = tmp_path / "x.jsonl.errors.tsv"
    assert str(errors) in line and "nonexistent" in errors.read_text()


@pytest.mark.parametrize("command", ["encode", "features", "s2st-targets"])
def test_some_failed_inputs_are_counted_and_strict_makes_them_fatal(command, tiny_pipeline_dir, tmp_path,
                                                                     capsys):
    good, missing = _wav(tmp_path / "good.wav"), tmp_path / "missing.wav"
    if command == "s2st-targets":
        pairs = tmp_path / "pairs.tsv"
        pairs.write_text(f"p1\t{good}\t{good}\np2\t{good}\t{missing}\n")
        argv = [command, "--model", str(tiny_pipeline_dir), "--pairs", str(pairs)]
        errors = tmp_path / "out" / "train.errors.tsv"
    else:
        model = ["--spectral", "mfcc"] if command == "features" else ["--model", str(tiny_pipeline_dir)]
        argv = [command, *model, str(good), str(missing)]
    out = tmp_path / ("out.jsonl" if command == "encode" else "out")
    if command == "encode":
        errors = tmp_path / "out.jsonl.errors.tsv"
    elif command == "features":
        errors = out / "errors.tsv"
    out_flag = "-o" if command == "encode" else "--out"
    assert main(argv + [out_flag, str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 of 2 inputs failed" in err and str(errors) in err and "Traceback" not in err
    assert errors.is_file()
    assert main(argv + [out_flag, str(out), "--strict"]) == 2
    assert "1 of 2 inputs failed" in _err_line(capsys)


@pytest.mark.parametrize("command", ["features", "s2st-targets"])
def test_features_and_s2st_with_nothing_processed_exit_2(command, tiny_pipeline_dir, tmp_path, capsys):
    missing = tmp_path / "missing.wav"
    if command == "features":
        argv = ["features", "--spectral", "mfcc", str(missing)]
    else:
        pairs = tmp_path / "pairs.tsv"
        pairs.write_text(f"p1\t{missing}\t{missing}\n")
        argv = ["s2st-targets", "--model", str(tiny_pipeline_dir), "--pairs", str(pairs)]
    assert main(argv + ["--out", str(tmp_path / "out")]) == 2
    assert "none of the 1 inputs" in _err_line(capsys)


# ----------------------------------------------------------------------------- 7: one line, exit 2
def test_out_of_range_seeds_are_one_line_errors(tiny_pipeline_dir, tmp_path, capsys):
    units = _units_file(tmp_path / "u.jsonl", ["u"])
    wav = _wav(tmp_path / "a.wav")
    cases = [
        ["continue", "--model", str(tiny_pipeline_dir), "--units", str(units), "--out", str(tmp_path / "c"),
         "--seed", "99999999999999999999999"],
        ["continue", "--model", str(tiny_pipeline_dir), "--units", str(units), "--out", str(tmp_path / "c"),
         "--seed", "-1"],
        # faiss takes a C int: 2**31 overflowed after the whole feature pass
        ["train", "kmeans", "--spectral", "mfcc", "-k", "2", "--max-frames", "20", "--steps", "1",
         "--out", str(tmp_path / "km"), "--seed", str(SEED_MAX + 1), str(wav)],
    ]
    for argv in cases:
        assert main(argv) == 2
        assert f"must be an integer in [0, {SEED_MAX}]" in _err_line(capsys)
    assert not (tmp_path / "c").exists() and not (tmp_path / "km.safetensors").exists()
    assert main(cases[0][:-1] + [str(SEED_MAX)]) == 0  # the largest seed is accepted


def test_out_of_range_seed_in_a_real_process_prints_no_traceback(tmp_path):
    units = _units_file(tmp_path / "u.jsonl", ["u"])
    run = subprocess.run([sys.executable, "-m", "textless", "continue", "--units", str(units),
                          "--ulm", str(tmp_path / "no-lm"), "--out", str(tmp_path / "c"),
                          "--seed", "99999999999999999999999"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("textless: error: --seed")


def test_abx_on_a_refused_pickle_is_one_line(tmp_path, capsys):
    feats = tmp_path / "feats"
    feats.mkdir()
    torch.save({"features": torch.zeros(3, 2), "extra": Opaque()}, feats / "a.pt")
    item = tmp_path / "x.item"
    item.write_text("#file onset offset #phone prev-phone next-phone speaker\na 0.0 0.04 p b c s1\n")
    assert main(["eval", "abx", str(feats), str(item), "--frame-shift", "0.01", "--extension", ".pt",
                 "-o", str(tmp_path / "r.json")]) == 2
    line = _err_line(capsys)
    assert "a.pt" in line and "refusing to load" in line and "Opaque" in line


def test_refused_vocoder_checkpoint_is_one_line(tmp_path, capsys):
    torch.save({"generator": {"w": torch.zeros(2)}, "trainer": Opaque()}, tmp_path / "g_00000001")
    (tmp_path / "config.json").write_text(json.dumps({"num_embeddings": 16}))
    units = _units_file(tmp_path / "u.jsonl", ["u"])
    assert main(["resynth", "--vocoder", str(tmp_path / "g_00000001"), "--vocoder-config",
                 str(tmp_path / "config.json"), "--units", str(units), "--out", str(tmp_path / "o")]) == 2
    line = _err_line(capsys)
    assert "refusing to load" in line and "weights_only" not in line  # no advice to run the file's code


def test_user_errors_with_several_lines_are_printed_as_one(monkeypatch, capsys):
    from textless.cli import models

    def fail(args):
        raise TextlessError("first line\n\n  second line\n")

    monkeypatch.setattr(models, "cmd_list", fail)
    assert main(["models", "list"]) == 2
    assert _err_line(capsys) == "textless: error: first line second line"


# ----------------------------------------------------------------------------- 10: duplicate ids
@pytest.mark.parametrize("command", ["features", "encode"])
def test_two_inputs_with_the_same_stem_are_refused_naming_both_paths(command, tiny_pipeline_dir,
                                                                      tmp_path, capsys):
    a, b = _wav(tmp_path / "a" / "x.wav"), _wav(tmp_path / "b" / "x.wav", freq=440.0)
    model = ["--spectral", "mfcc"] if command == "features" else ["--model", str(tiny_pipeline_dir)]
    out = tmp_path / ("feats" if command == "features" else "units.jsonl")
    assert main([command, *model, "-o" if command == "encode" else "--out", str(out), str(a), str(b)]) == 2
    line = _err_line(capsys)
    assert str(a) in line and str(b) in line
    assert not out.exists()  # refused before any work


def test_s2st_pairs_with_the_same_id_are_refused(tiny_pipeline_dir, tmp_path):
    from textless.pipeline import load_pipeline
    from textless.s2st import Pair, make_unit_targets

    a, b = _wav(tmp_path / "a.wav"), _wav(tmp_path / "b.wav", freq=440.0)
    pairs = [Pair("p", a, a), Pair("p", b, b)]
    with pytest.raises(TextlessError, match="two inputs have the id 'p'"):
        make_unit_targets(pairs, tmp_path / "out", load_pipeline(str(tiny_pipeline_dir)), show_progress=False)
    assert not (tmp_path / "out" / "train.tsv").exists()
