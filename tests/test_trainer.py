"""The trainer contract's shared parts: the common flags of every `textless train X`, the old
flag spellings as warning aliases, resume checks and the run log. (Every trainer's SIGKILL and
exact resume: tests/test_kill_resume.py.)"""

from __future__ import annotations

import argparse
import json
import warnings

import pytest
import torch

from textless.cli import build_parser, main
from textless.cli.flags import TRAINER_FLAGS
from textless.errors import TextlessError

TRAINERS = ("encoder", "kmeans", "ulm", "prompt", "vocoder")


def _subparsers(parser) -> dict:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def _train_parsers() -> dict:
    return _subparsers(_subparsers(build_parser())["train"])


def test_every_trainer_has_the_common_flags_with_the_same_help(capsys):
    parsers = _train_parsers()
    assert set(parsers) == {*TRAINERS, "tokenizer"}  # the tokenizer is a one-pass fit, no run
    helps = {}
    for name in TRAINERS:
        with pytest.raises(SystemExit):
            main(["train", name, "--help"])
        text = capsys.readouterr().out
        expected = [f for f in TRAINER_FLAGS if not (name == "kmeans" and f == "--valid-every")]
        assert all(f"  {flag} " in text for flag in expected), name  # in --help, with a metavar
        assert "--out" in text and "training run (the same in every trainer)" in text
        actions = {s: a for a in parsers[name]._actions for s in a.option_strings}
        helps[name] = {f: actions[f].help for f in expected}
    for flag in ("--device", "--seed", "--valid-every"):  # word for word, defaults aside
        assert len({h[flag] for h in helps.values() if flag in h}) == 1, flag
    for flag in ("--steps", "--save-every"):  # one template; the unit of a step may differ
        assert len({h[flag].split(":")[0].split(" every")[0] for h in helps.values()}) == 1, flag


@pytest.mark.parametrize("old, new, dest, value", [
    (["train", "ulm", "--units", "u", "--out", "o", "--max-steps", "7"], "--steps", "steps", 7),
    (["train", "vocoder", "--audio", "a", "--out", "o", "--checkpoint-every", "3"], "--save-every", "save_every", 3),
    (["train", "vocoder", "--audio", "a", "--out", "o", "--valid", "1"], "--valid-utterances", "valid_utterances", 1),
    (["train", "kmeans", "-k", "4", "--out", "o", "--niter", "5"], "--steps", "steps", 5),
    (["encode", "--out", "u.jsonl", "a.wav"], "--output", "output", "u.jsonl"),
    (["score", "--ulm", "x", "--units", "u", "--out", "s.jsonl"], "--output", "output", "s.jsonl"),
    (["train", "tokenizer", "--units", "u", "--vocab", "5", "--out", "t.json"], "--output", "output", "t.json"),
    (["eval", "abx", "f", "i", "-o", "r.json", "--speaker", "within"], "--speaker-mode", "speaker_mode", "within"),
    (["eval", "abx", "f", "i", "--out", "r.json"], "--output", "output", "r.json"),
    (["eval", "wer", "r", "s", "--out", "r.json"], "--output", "output", "r.json"),
    (["eval", "bitrate", "u", "--out", "r.json"], "--output", "output", "r.json"),
    (["eval", "lexical", "d", "--json", "a.json"], "--output", "output", "a.json"),
])
def test_old_spellings_set_the_new_flag_with_a_one_line_warning(old, new, dest, value, capsys):
    flag = next(a for a in old if a in ("--max-steps", "--checkpoint-every", "--valid", "--niter", "--json")
                or a == "--speaker" or (a == "--out" and new == "--output"))
    args = build_parser().parse_args(old)
    assert getattr(args, dest) == value
    assert capsys.readouterr().err == f"textless: warning: {flag} is deprecated, use {new}\n"
    renamed = [new if a == flag else a for a in old]
    assert getattr(build_parser().parse_args(renamed), dest) == value  # the new spelling, silently
    assert capsys.readouterr().err == ""
    sub = old[:old.index(next(a for a in old if a.startswith("-")))]
    with pytest.raises(SystemExit):
        build_parser().parse_args([*sub, "--help"])
    text = capsys.readouterr().out
    assert new in text and f"{flag} " not in text.replace(f"{new} ", "")  # hidden from --help


def test_train_with_cuda_on_a_machine_without_it_is_one_line(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    argv = ["train", "vocoder", "--audio", str(tmp_path), "--units", "u.jsonl", "--out", str(tmp_path / "o"),
            "--device", "cuda"]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == "textless: error: --device cuda: no CUDA device is available"


def test_old_config_fields_of_the_api_warn_and_set_the_new_ones():
    from textless.encoders.pretrain import PretrainConfig
    from textless.vocoders.train import TrainConfig

    with pytest.warns(DeprecationWarning, match="use save_every"):
        assert TrainConfig(checkpoint_every=3).save_every == 3
    with pytest.warns(DeprecationWarning):
        c = PretrainConfig(max_steps=5, checkpoint_every=2)
    assert (c.steps, c.save_every) == (5, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert TrainConfig(save_every=4).save_every == 4


# ----------------------------------------------------------------------------- textless.trainer
def test_check_resume_names_what_changed_and_reads_old_field_names(tmp_path):
    from textless.trainer import check_resume, config_json
    from textless.ulm.train import TrainConfig

    c = TrainConfig("t.jsonl", str(tmp_path / "a"), steps=10, lr=1e-3)
    saved = config_json(c)
    check_resume(saved, TrainConfig("t.jsonl", str(tmp_path / "b"), steps=10, lr=1e-3, save_every=5),
                 tmp_path, free={"out_dir", "save_every"})
    with pytest.raises(TextlessError, match=r"other settings \(lr, steps\)"):
        check_resume(saved, TrainConfig("t.jsonl", str(tmp_path / "a"), steps=20, lr=1e-2), tmp_path)
    old = {k if k != "steps" else "max_steps": v for k, v in json.loads(saved).items()}  # an earlier state
    check_resume(old, c, tmp_path, renamed={"max_steps": "steps"})
    with pytest.raises(TextlessError, match="steps"):
        check_resume(old, c, tmp_path)


def test_run_log_drops_what_a_killed_run_logged_past_its_state(tmp_path):
    from textless.trainer import RunLog, read_log

    (tmp_path / "log.jsonl").write_text("".join(json.dumps({"step": s, "loss": s}) + "\n" for s in (1, 2, 3))
                                        + '{"step": 4, "lo')  # cut by the kill
    with RunLog(tmp_path, 2) as log:
        log.write({"step": 3, "loss": 30})
    assert read_log(tmp_path) == [{"step": 1, "loss": 1}, {"step": 2, "loss": 2}, {"step": 3, "loss": 30}]
    with RunLog(tmp_path, 0):  # a fresh run starts a fresh log
        pass
    assert read_log(tmp_path) == []
    with RunLog(tmp_path, 5, enabled=False) as log:  # ranks > 0 write nothing
        log.write({"step": 6})
    assert not (tmp_path / "log.jsonl").read_text()
