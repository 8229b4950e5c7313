"""GSLM / S2UT zoo entries through the registry: random-weight files in the official layouts,
put into a local cache, loaded by name; trust on first use for files with no published sha256."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

import pytest
import torch

from textless import bundle as bundle_mod
from textless import hub
from textless.errors import ChecksumError, IncompatibleComponentsError

UNITS = 8  # tiny vocabulary for every part


def _cli(*args, home):
    env = dict(os.environ, TEXTLESS_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "textless", *args], capture_output=True, text=True, env=env)


# ------------------------------------------------------------------------------ trust on first use
def test_tofu_recorded_then_verified_then_tampered_file_refused(tmp_path):
    src = tmp_path / "hubert100_lm.tgz"
    src.write_bytes(b"archive bytes v1")
    f = bundle_mod.RemoteFile("checkpoint", src.as_uri(), None, "tofu/hubert100_lm.tgz")
    assert bundle_mod.sha256_status(f) == "none published; recorded on first use"
    path = bundle_mod.fetch_file(f)  # first use: downloaded (file://) and recorded
    digest = hashlib.sha256(b"archive bytes v1").hexdigest()
    assert bundle_mod.recorded_sha256(f) == digest
    assert bundle_mod.sha256_status(f).startswith("recorded on first use 20")
    assert bundle_mod.fetch_file(f) == path  # later use: verified against the record
    path.write_bytes(b"archive bytes v2")  # tampered in the cache
    with pytest.raises(ChecksumError, match="recorded on first use") as e:
        bundle_mod.fetch_file(f)
    assert "\n" not in str(e.value)
    # deleted and downloaded again from a source that changed: refused, nothing left in the cache
    path.unlink()
    src.write_bytes(b"archive bytes v3")
    with pytest.raises(ChecksumError):
        bundle_mod.fetch_file(f)
    assert not path.exists() and bundle_mod.recorded_sha256(f) == digest


def test_published_md5_is_checked_before_the_sha256_is_recorded(tmp_path):
    """Files with a published md5 only (GSLM's log-mel / wav2vec 2.0 Tacotron2 models): a
    download or import that misses it leaves nothing in the cache and records nothing."""
    src = tmp_path / "tts_checkpoint_best.pt"
    src.write_bytes(b"model v1")
    good = bundle_mod.RemoteFile("checkpoint", src.as_uri(), None, "tofu/tts.pt",
                                 md5=hashlib.md5(b"model v1").hexdigest())
    bad = dataclasses.replace(good, filename="tofu/tts_bad.pt", md5="0" * 32)
    assert bundle_mod.sha256_status(good) == "none published; recorded on first use once the published md5 matches"
    with pytest.raises(ChecksumError, match="md5 .* does not match the published 0{32}"):
        bundle_mod.fetch_file(bad)
    assert not bad.cached_path().exists() and bundle_mod.recorded_sha256(bad) is None
    assert bundle_mod.fetch_file(good).read_bytes() == b"model v1"
    assert bundle_mod.recorded_sha256(good) == hashlib.sha256(b"model v1").hexdigest()
    assert bundle_mod.sha256_status(good).endswith(", the published md5 matched")
    # an import under a registered name whose md5 does not match: nothing imported
    name = "w2v2-large-lv60-kmeans-50-tacotron"
    with pytest.raises(ChecksumError, match="published e3503d0ad822b2c24b89f68b857fedff"):
        hub.import_file(src, name)
    f = hub.get_bundle(name).files[0]
    assert not f.cached_path().exists() and bundle_mod.recorded_sha256(f) is None


def test_tofu_import_matches_by_name_and_later_imports_must_agree(tmp_path):
    name = "hubert-base-ls960-kmeans-100-ulm"
    first = tmp_path / "hubert100_lm.tgz"
    first.write_bytes(b"first")
    hub.import_file(first, name)
    f = hub.get_bundle(name).files[0]
    assert f.cached_path().read_bytes() == b"first"
    assert bundle_mod.recorded_sha256(f) == hashlib.sha256(b"first").hexdigest()
    other = tmp_path / "x" / "hubert100_lm.tgz"
    other.parent.mkdir()
    other.write_bytes(b"other")
    with pytest.raises(ChecksumError, match="recorded on first use"):
        hub.import_file(other, name)
    assert f.cached_path().read_bytes() == b"first"
    info = json.loads(_cli("models", "info", name, home=hub.textless_home()).stdout)
    assert info["files"][0]["sha256_status"].startswith("recorded on first use ")
    assert info["files"][0]["sha256_recorded"] == hashlib.sha256(b"first").hexdigest()


def test_models_list_has_no_unsupported_entry_and_says_how_hashes_are_known(tmp_path):
    r = _cli("models", "list", home=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "not supported" not in r.stdout and "download only" not in r.stdout
    assert "(none published; recorded on first use)" in r.stdout
    for b in hub.registry().values():
        assert b.role == "pipeline" or b.loader is not None, b.name


def test_pipeline_components_agree_on_rates_vocabulary_and_layer():
    """Every registered pipeline: its components declare its frame rate, vocabulary and layer
    (the log-mel and wav2vec 2.0 families included), and the encoder its sample rate."""
    for b in hub.registry().values():
        if b.role != "pipeline" or not b.components:
            continue
        enc, km, *rest = b.components
        assert (enc.role, km.role) == ("encoder", "quantizer") and enc.sample_rate == b.sample_rate, b.name
        assert km.layer == b.layer and km.vocab_size == b.vocab_size, b.name
        for c in (enc, km, *rest):
            assert c.frame_rate == b.frame_rate, (b.name, c.name)
        for c in rest:
            assert c.vocab_size == b.vocab_size and c.role in ("ulm", "vocoder"), (b.name, c.name)


# ------------------------------------------------------------------------ official layouts, tiny
def _ulm_archive(path):
    from tests.ulm.test_fairseq_import import D, FFN, H, L, fairseq_state

    from textless.ulm.fairseq_import import read_dict

    folder = path.parent / "lm_src"
    folder.mkdir()
    (folder / "dict.txt").write_text("".join(f"{u} {100 - u}\n" for u in range(UNITS)))
    sd = fairseq_state(len(read_dict(folder / "dict.txt")))
    args = argparse.Namespace(
        arch="transformer_lm_big", decoder_layers=L, decoder_embed_dim=D, decoder_ffn_embed_dim=FFN,
        decoder_attention_heads=H, activation_fn="relu", dropout=0.1, decoder_normalize_before=True,
        share_decoder_input_output_embed=True, tokens_per_sample=64, max_target_positions=64,
        no_scale_embedding=False, decoder_learned_pos=False, adaptive_softmax_cutoff=None)
    buf = io.BytesIO()
    torch.save({"args": args, "cfg": None, "model": sd, "optimizer_history": []}, buf)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in (("hubert100_lm/checkpoint_best.pt", buf.getvalue()),
                           ("hubert100_lm/dict.txt", (folder / "dict.txt").read_bytes())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _tacotron_files(tmp_path):
    from tests.vocoders.test_tacotron2 import HP, write_official as write_tts
    from tests.vocoders.test_waveglow import HP as WG_HP, write_official as write_waveglow

    tts = write_tts(tmp_path / "tts_checkpoint_best.pt", hp=dict(HP, n_mel_channels=80))
    wg = write_waveglow(tmp_path / "waveglow_256channels_standalone.pt", hp=dict(WG_HP, n_mel_channels=80))
    codes = tmp_path / "code_dict"
    codes.write_text("".join(f"{u}\n" for u in range(UNITS)))
    return {"checkpoint": tts, "codes": codes, "waveglow": wg}


def _as_registered(bundle, paths):
    """``bundle`` with its files' sha256 set to those of ``paths`` (by role): what the registry
    would say if the official files were these."""
    files = tuple(dataclasses.replace(f, sha256=hashlib.sha256(paths[f.role].read_bytes()).hexdigest())
                  for f in bundle.files)
    return dataclasses.replace(bundle, files=files)


def test_gslm_pipeline_from_imported_official_files(tmp_path, monkeypatch):
    """Encoder + k-means + GSLM unit LM archive (TOFU) + Tacotron2/WaveGlow vocoder (three files),
    each imported into the cache under its zoo name and loaded by the registry; CPC-rate units
    (100 Hz) with a hop of 22050/100 rounded to 220 pass the pipeline's frame-rate check."""
    from textless.encoders.spectral import SpectralEncoder, mfcc_config
    from textless.pipeline import load_pipeline
    from textless.quantizers.kmeans import KMeansQuantizer
    from textless.vocoders.gslm_import import GSLMVocoder

    real = hub.registry()
    taco_paths = _tacotron_files(tmp_path)
    taco = _as_registered(real["cpc-big-ll6k-kmeans-100-tacotron"], taco_paths)
    taco = dataclasses.replace(taco, vocab_size=UNITS)
    ulm = real["cpc-big-ll6k-kmeans-100-ulm"]
    enc = SpectralEncoder(mfcc_config())  # 100 Hz, like CPC
    km = KMeansQuantizer(torch.randn(UNITS, enc.dim).numpy(), None, None)
    encoder = hub.Bundle("tiny-enc", "encoder", "t", format="spectral", loader=lambda b, f, d: enc)
    quantizer = hub.Bundle("tiny-km", "quantizer", "t", format="kmeans", loader=lambda b, f, d: km)
    pipe_b = hub.Bundle("gslm-tiny", "pipeline", "t", components=(encoder, quantizer, ulm, taco))
    bundles = {b.name: b for b in (encoder, quantizer, ulm, taco, pipe_b)}
    monkeypatch.setattr(hub, "registry", lambda: bundles)

    for path in taco_paths.values():
        hub.import_file(path, taco.name)
    hub.import_file(_ulm_archive(tmp_path / "cpc100_lm.tgz"), ulm.name)
    assert bundle_mod.sha256_status(ulm.files[0]).startswith("recorded on first use")

    voc = taco.get_model()
    assert isinstance(voc, GSLMVocoder) and voc.frame_rate == 100.0 and voc.hop_length == 220
    assert voc.sample_rate / voc.hop_length != 100.0  # the old rule would have refused it
    pipe = load_pipeline("gslm-tiny")
    assert pipe.ulm.vocab_size == UNITS and pipe.vocoder is not None
    voc = pipe.vocoder
    voc.tacotron.decoder.gate_layer.linear_layer.bias.data.fill_(-50.0)  # fixed length
    voc.max_decoder_steps = 4
    wav = torch.randn(1600)
    out = pipe.continue_speech(wav, max_new_tokens=3, seed=0, stop_at_eos=False)
    assert len(out.continuations) == 1 and out.sample_rate == 22050
    assert out.continuation_wavs[0].shape == (4 * 256,)  # 4 mel frames x WaveGlow's 256 hop
    # a vocoder declaring a different unit rate is refused
    monkeypatch.setattr(voc, "frame_rate", 50.0)
    with pytest.raises(IncompatibleComponentsError, match="vocoder frame rate 50 Hz"):
        pipe.check()

    # the ULM archive changed in the cache: a one-line ChecksumError on the next load
    ulm.files[0].cached_path().write_bytes(b"not the archive")
    with pytest.raises(ChecksumError, match="recorded on first use"):
        ulm.get_model()


def test_s2ut_hifigan_files_load_by_name(tmp_path, monkeypatch):
    """The fairseq S2UT layout (``g_00500000`` = {generator} + ``config.json``), both TOFU,
    imported by their file names and loaded through the registry."""
    from tests.vocoders.test_hifigan import BASE, _official_files

    name = "hubert-base-ls960-kmeans-100-hifigan-lj"
    ref, ckpt, conf = _official_files(tmp_path, dict(
        BASE, num_embeddings=100, model_in_dim=16, upsample_rates=[8, 8, 5],
        upsample_kernel_sizes=[16, 16, 11], code_hop_size=320))  # 50 Hz units at 16 kHz
    official = tmp_path / "official"
    official.mkdir()
    ckpt.rename(official / "g_00500000")
    conf.rename(official / "config.json")
    hub.import_file(official / "g_00500000", name)
    hub.import_file(official / "config.json", name)
    b = hub.get_bundle(name)
    assert all(bundle_mod.recorded_sha256(f) for f in b.files)
    voc = b.get_model()
    assert voc.vocab_size == 100 and voc.sample_rate / voc.hop_length == b.frame_rate
