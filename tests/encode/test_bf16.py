"""--bf16 is bf16 only where it is fast: native bf16 CPUs and CUDA; elsewhere fp32 unless forced."""

import logging

import pytest
import torch

import textless.bf16 as bf16_module
from textless.bf16 import bf16_mode, use_bf16
from textless.encoders.batch import encoder_autocast


def _matmul_dtype(device, bf16):
    with encoder_autocast(device, bf16):
        return (torch.ones(4, 4) @ torch.ones(4, 4)).dtype


@pytest.fixture
def no_native_bf16(monkeypatch):
    """A CPU like the AVX2 machines where bf16 is emulated (40x slower than fp32)."""
    monkeypatch.setattr(bf16_module, "cpu_has_native_bf16", lambda: False)
    bf16_module._warn_emulated_bf16.cache_clear()
    yield
    bf16_module._warn_emulated_bf16.cache_clear()


def test_bf16_without_native_support_falls_back_to_fp32_with_one_warning(no_native_bf16, caplog):
    with caplog.at_level(logging.WARNING, logger="textless.bf16"):
        assert _matmul_dtype("cpu", True) == torch.float32
        assert _matmul_dtype("cpu", "auto") == torch.float32  # later batches: no new warning
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "--bf16=force" in warnings[0].getMessage()


def test_bf16_force_runs_bfloat16_without_native_support(no_native_bf16, caplog):
    with caplog.at_level(logging.WARNING):
        assert _matmul_dtype("cpu", "force") == torch.bfloat16
    assert caplog.records == []


def test_bf16_auto_keeps_bfloat16_on_native_cpus_and_cuda(monkeypatch):
    monkeypatch.setattr(bf16_module, "cpu_has_native_bf16", lambda: True)
    assert _matmul_dtype("cpu", True) == torch.bfloat16
    monkeypatch.setattr(bf16_module, "cpu_has_native_bf16", lambda: False)
    assert use_bf16("cuda", True) and use_bf16("cuda:1", "auto")
    assert not use_bf16("cuda", False) and _matmul_dtype("cpu", False) == torch.float32


def test_fallback_features_equal_fp32_features_of_a_hubert(no_native_bf16, tiny_model):
    from textless.encoders.fairseq_import import load_encoder

    encoder = load_encoder(tiny_model[0])
    wav = torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    ref, _ = encoder.features(wav, layer=2)
    with encoder_autocast("cpu", True):
        same, _ = encoder.features(wav, layer=2)
    with encoder_autocast("cpu", "force"):
        forced, _ = encoder.features(wav, layer=2)
    assert same.dtype == torch.float32 and torch.equal(same, ref)
    assert forced.dtype == torch.bfloat16


@pytest.mark.parametrize("flags, native", [
    ("fpu sse avx2 avx512f avx512_bf16 avx512_vnni", True),
    ("fpu sse avx2 amx_tile amx_bf16", True),
    ("fpu sse avx2 fma", False),  # Zen 3: AVX2 only
])
def test_native_bf16_is_read_from_cpuinfo_flags(tmp_path, flags, native):
    info = tmp_path / "cpuinfo"
    info.write_text(f"processor\t: 0\nmodel name\t: X\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    assert bf16_module.cpu_has_native_bf16(str(info)) is native
    assert bf16_module.cpu_has_native_bf16(str(tmp_path / "missing")) is False


@pytest.mark.parametrize("command", ["features", "encode"])
def test_bf16_flag_spelling_auto_and_force(command):
    """``--bf16`` is auto, ``--bf16=force`` forces, and ``--bf16 a.wav`` keeps a.wav an input."""
    from textless.cli import build_parser

    def parse(*args):
        ns = build_parser().parse_args([command, "-o" if command == "encode" else "--out", "o", *args])
        return ns.bf16, ns.audio

    assert parse("a.wav") == (False, ["a.wav"])
    assert parse("--bf16", "a.wav") == (True, ["a.wav"])
    assert parse("--bf16=force", "a.wav") == ("force", ["a.wav"])
    assert parse("a.wav", "b.wav", "--bf16=force") == ("force", ["a.wav", "b.wav"])
    assert [bf16_mode(v) for v in (False, True, "force", "auto", "off")] == [False, True, "force", True, False]
    with pytest.raises(ValueError):
        bf16_mode("fast")


def test_features_cli_bf16_is_fp32_on_a_cpu_without_bf16_unless_forced(no_native_bf16, tiny_model, corpus,
                                                                     tmp_path, caplog):
    """``--bf16`` on an AVX2-only CPU: the .npy equals the fp32 features (and one warning);
    ``--bf16=force``: bf16 rounding shows (within 3 %)."""
    import numpy as np

    from textless.audio import load_audio
    from textless.cli import main
    from textless.encoders.fairseq_import import load_encoder

    ckpt, _, _ = tiny_model
    wav, _ = load_audio(corpus / "slt_0.wav", 16000)
    ref = load_encoder(ckpt).features(torch.from_numpy(wav)[None], layer=3)[0][0].numpy()
    got = {}
    for flag in ("--bf16", "--bf16=force"):
        out = tmp_path / flag.strip("-").replace("=", "_")
        assert main(["features", "--checkpoint", str(ckpt), "--layer", "3", "--out", str(out),
                     str(corpus / "slt_0.wav"), flag]) == 0
        got[flag] = np.load(out / "slt_0.npy")
    np.testing.assert_allclose(got["--bf16"], ref, rtol=0, atol=1e-5)
    err = np.linalg.norm(got["--bf16=force"] - ref) / np.linalg.norm(ref)
    assert 1e-4 < err < 0.03
    assert sum("no native bfloat16" in r.getMessage() for r in caplog.records) == 1
