"""GSLM import: a random-init fairseq transformer_lm checkpoint with a shuffled dict.txt gives
the log-probabilities of an independent, literal implementation of fairseq's forward."""

import argparse
import math
import random

import pytest
import torch
import torch.nn.functional as F

from textless.errors import CheckpointError
from textless.ulm.checkpoint import load_ulm, save_ulm
from textless.ulm.fairseq_import import read_dict
from textless.ulm.score import score_sequences

D, FFN, H, L, UNITS = 16, 32, 4, 2, 13


def fairseq_state(n_symbols, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g) * 0.3  # noqa: E731
    sd = {"decoder.version": torch.tensor([3.0]),
          "decoder.embed_positions._float_tensor": torch.zeros(1)}
    emb = r(n_symbols, D)
    emb[1] = 0  # padding row
    sd["decoder.embed_tokens.weight"] = emb
    for i in range(L):
        p = f"decoder.layers.{i}."
        for n in "kvq":
            sd[f"{p}self_attn.{n}_proj.weight"] = r(D, D)
            sd[f"{p}self_attn.{n}_proj.bias"] = r(D)
        sd[f"{p}self_attn.out_proj.weight"], sd[f"{p}self_attn.out_proj.bias"] = r(D, D), r(D)
        for ln in ("self_attn_layer_norm", "final_layer_norm"):
            sd[f"{p}{ln}.weight"], sd[f"{p}{ln}.bias"] = 1 + r(D), r(D)
        sd[f"{p}fc1.weight"], sd[f"{p}fc1.bias"] = r(FFN, D), r(FFN)
        sd[f"{p}fc2.weight"], sd[f"{p}fc2.bias"] = r(D, FFN), r(D)
    sd["decoder.layer_norm.weight"], sd["decoder.layer_norm.bias"] = 1 + r(D), r(D)
    sd["decoder.output_projection.weight"] = emb  # tied: same storage
    return sd


@pytest.fixture
def gslm_dir(tmp_path):
    units = list(range(UNITS))
    random.Random(3).shuffle(units)  # "sorted by count": not numeric order
    lines = [f"{u} {1000 - i}" for i, u in enumerate(units)]
    n = 4 + len(lines)
    lines += [f"madeupword{j:04d} 0" for j in range(-n % 8)]  # padded to a multiple of 8
    (tmp_path / "dict.txt").write_text("\n".join(lines) + "\n")
    symbols = read_dict(tmp_path / "dict.txt")
    sd = fairseq_state(len(symbols))
    args = argparse.Namespace(
        arch="transformer_lm_big", decoder_layers=L, decoder_embed_dim=D, decoder_ffn_embed_dim=FFN,
        decoder_attention_heads=H, activation_fn="relu", dropout=0.1, decoder_normalize_before=True,
        share_decoder_input_output_embed=True, tokens_per_sample=3072, max_target_positions=3072,
        no_scale_embedding=False, decoder_learned_pos=False, adaptive_softmax_cutoff=None,
    )
    torch.save({"args": args, "cfg": None, "model": sd, "optimizer_history": [],
                "extra_state": {"best": 1.5}}, tmp_path / "checkpoint_best.pt")
    return tmp_path, symbols, sd


def reference_logprobs(sd, tokens):
    """Literal fairseq transformer_lm forward for one sequence ``tokens: [T]`` -> ``[T, V]``."""
    pad = 1
    x = math.sqrt(D) * sd["decoder.embed_tokens.weight"][tokens]
    mask = (tokens != pad).long()
    positions = torch.cumsum(mask, 0) * mask + pad
    half = D // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float) * -(math.log(10000) / (half - 1)))
    table = torch.arange(3100, dtype=torch.float)[:, None] * freq[None]
    table = torch.cat([torch.sin(table), torch.cos(table)], 1)
    table[pad] = 0
    x = x + table[positions]
    T, hd = len(tokens), D // H
    for i in range(L):
        p = f"decoder.layers.{i}."
        lin = lambda h, n: h @ sd[f"{p}{n}.weight"].T + sd[f"{p}{n}.bias"]  # noqa: E731
        res = x
        h = F.layer_norm(x, (D,), sd[f"{p}self_attn_layer_norm.weight"], sd[f"{p}self_attn_layer_norm.bias"])
        q = lin(h, "self_attn.q_proj") * hd ** -0.5
        k, v = lin(h, "self_attn.k_proj"), lin(h, "self_attn.v_proj")
        out = torch.zeros(T, D)
        for head in range(H):
            s = slice(head * hd, (head + 1) * hd)
            for t in range(T):
                w = torch.softmax(q[t, s] @ k[: t + 1, s].T, 0)
                out[t, s] = w @ v[: t + 1, s]
        x = res + lin(out, "self_attn.out_proj")
        res = x
        h = F.layer_norm(x, (D,), sd[f"{p}final_layer_norm.weight"], sd[f"{p}final_layer_norm.bias"])
        x = res + lin(torch.relu(lin(h, "fc1")), "fc2")
    x = F.layer_norm(x, (D,), sd["decoder.layer_norm.weight"], sd["decoder.layer_norm.bias"])
    return torch.log_softmax(x @ sd["decoder.output_projection.weight"].T, -1)


def test_dict_mapping(gslm_dir):
    path, symbols, _ = gslm_dir
    assert symbols[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and len(symbols) % 8 == 0
    model = load_ulm(path)
    assert model.vocab_size == UNITS and model.eos == 2 and model.pad == 1
    for u in range(UNITS):
        assert symbols[int(model.tokens_of(torch.tensor([u])))] == str(u)


def test_scores_match_hand_check(gslm_dir):
    path, symbols, sd = gslm_dir
    model = load_ulm(path)
    seqs = [torch.tensor([0, 5, 12, 3, 3, 7]), torch.tensor([11]), torch.tensor([4, 2, 9, 0])]
    got = score_sequences(model, seqs, batch_size=2)
    for units, (lp, n) in zip(seqs, got):
        idx = torch.tensor([symbols.index(str(u)) for u in units.tolist()])
        tokens = torch.cat([torch.tensor([2]), idx])        # opening eos
        targets = torch.cat([idx, torch.tensor([2])])       # closing eos
        ref = reference_logprobs(sd, tokens)
        expect = sum(float(ref[t, targets[t]]) for t in range(len(targets)))
        assert n == len(units) + 1
        assert lp == pytest.approx(expect, abs=1e-4)


def test_hydra_cfg_and_native_round_trip(gslm_dir, tmp_path):
    path, symbols, sd = gslm_dir
    ckpt = torch.load(path / "checkpoint_best.pt", weights_only=False)
    model_cfg = dict(vars(ckpt.pop("args")), _name="transformer_lm_big")
    ckpt["cfg"] = {"model": model_cfg, "task": {"_name": "language_modeling"}}
    other = tmp_path / "hydra"
    other.mkdir()
    torch.save(ckpt, other / "checkpoint_best.pt")
    (other / "dict.txt").write_text((path / "dict.txt").read_text())
    a, b = load_ulm(path), load_ulm(other)
    tokens = torch.tensor([[2, 5, 6, 7]])
    assert torch.equal(a(tokens), b(tokens))
    native = load_ulm(save_ulm(tmp_path / "gslm.safetensors", a))  # import once, keep ours
    assert torch.equal(native(tokens), a(tokens))


def test_unknown_key_and_unsafe_pickle_raise(gslm_dir, tmp_path):
    path, symbols, sd = gslm_dir
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "dict.txt").write_text((path / "dict.txt").read_text())
    ckpt = torch.load(path / "checkpoint_best.pt", weights_only=False)
    ckpt["model"]["decoder.surprise.weight"] = torch.zeros(1)
    torch.save(ckpt, bad / "checkpoint_best.pt")
    with pytest.raises(CheckpointError, match="surprise"):
        load_ulm(bad)
    ckpt["model"].pop("decoder.surprise.weight")
    ckpt["extra_state"] = {"evil": _Evil()}
    torch.save(ckpt, bad / "checkpoint_best.pt")
    with pytest.raises(CheckpointError, match="safely"):
        load_ulm(bad)


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_gslm_as_user_bundle_and_cli(gslm_dir, tmp_path):
    """``models import checkpoint_best.pt --role ulm`` finds dict.txt beside the original;
    ``textless score`` accepts the GSLM folder directly."""
    import json

    from textless.cli import main
    from textless.hub import get_bundle, import_file
    from textless.units import Units, write_units

    path, symbols, sd = gslm_dir
    import_file(path / "checkpoint_best.pt", "gslm-test", role="ulm")
    model = get_bundle("gslm-test").get_model()
    seq = torch.tensor([3, 1, 4])
    units_file = write_units(tmp_path / "u.jsonl", [Units(seq, vocab_size=UNITS, id="a")])
    out = tmp_path / "s.jsonl"
    assert main(["score", "--ulm", str(path), "--units", str(units_file), "-o", str(out)]) == 0
    row = json.loads(out.read_text())
    assert row["logprob"] == pytest.approx(score_sequences(model, [seq])[0][0], abs=1e-5)
    assert row["num_tokens"] == 4


def test_gslm_archive(gslm_dir, tmp_path):
    """The released ``hubert100_lm.tgz`` layout: a folder inside a gzipped tar."""
    import tarfile

    path, symbols, sd = gslm_dir
    archive = tmp_path / "hubert13_lm.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(path / "checkpoint_best.pt", "hubert13_lm/checkpoint_best.pt")
        tar.add(path / "dict.txt", "hubert13_lm/dict.txt")
    a, b = load_ulm(archive), load_ulm(path)
    tokens = torch.tensor([[2, 5, 6]])
    assert torch.equal(a(tokens), b(tokens))
    assert torch.equal(load_ulm(archive)(tokens), a(tokens))  # second time: from the cache
