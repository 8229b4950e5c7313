"""`textless example` (what make run does) end to end on a random-init pipeline folder."""

import json
import subprocess
import sys

import soundfile as sf


def test_example_writes_audio_and_units(tiny_pipeline_dir, tmp_path):
    out = tmp_path / "example"
    r = subprocess.run(
        [sys.executable, "-m", "textless", "example", "--model", str(tiny_pipeline_dir),
         "--out", str(out), "--duration", "1.0"],
        capture_output=True, text=True,
    )
    assert r.returncode == 0, r.stderr
    for name in ("prompt.wav", "resynthesized.wav", "continued.wav", "units.jsonl", "continuation.jsonl"):
        assert str(out / name) in r.stdout, r.stdout
    units = json.loads((out / "units.jsonl").read_text())
    prompt, rate = sf.read(out / "prompt.wav")
    resynth, _ = sf.read(out / "resynthesized.wav")
    # resynthesis covers the prompt's frames: frames x hop samples
    assert len(resynth) == sum(units["durations"]) * 320
    assert abs(len(resynth) - len(prompt)) <= 400 and rate == 16000
    assert sf.info(out / "continued.wav").frames > len(resynth)


def test_example_without_a_model_is_a_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "textless", "example", "--model", "no-such-bundle",
                        "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("textless: error: unknown model")
