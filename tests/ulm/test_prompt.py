"""Prompt tuning: a frozen LM stays frozen; prompts learn a task that held-out data confirms."""

import pytest
import torch

from textless.cli import main
from textless.ulm.checkpoint import save_ulm
from textless.ulm.model import UnitLM, UnitLMConfig
from textless.ulm.prompt import (PromptConfig, PromptTuner, load_prompt, majority_accuracy,
                                 save_prompt, train_prompt)
from textless.ulm.train import TrainConfig, train_ulm
from textless.units import Units, write_units

PATTERNS = [[1, 2, 3, 4, 5], [6, 7, 8, 9], [10, 11, 0, 3]]


def labelled(n, seed):
    """Utterances of one pattern (the class) with random crops and a noisy unit."""
    g = torch.Generator().manual_seed(seed)
    units, labels = [], []
    for i in range(n):
        c = int(torch.randint(0, 3, (1,), generator=g))
        seq = torch.tensor(PATTERNS[c] * 3)
        start = int(torch.randint(0, 4, (1,), generator=g))
        seq = seq[start:start + 8].clone()
        seq[int(torch.randint(0, 8, (1,), generator=g))] = int(torch.randint(0, 12, (1,), generator=g))
        units.append(seq)
        labels.append(c)
    return units, labels


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    torch.set_num_threads(1)
    d = tmp_path_factory.mktemp("pre")
    units, _ = labelled(60, seed=0)
    path = write_units(d / "c.jsonl", [Units(u, vocab_size=12, id=str(i)) for i, u in enumerate(units)])
    train_ulm(TrainConfig(train=str(path), out_dir=str(d / "run"), max_tokens=128, steps=60,
                          lr=3e-3, warmup_steps=5, save_every=60, valid_fraction=0.0, seed=1),
              UnitLMConfig.tiny(vocab_size=12, dropout=0.0))
    from textless.ulm.checkpoint import load_ulm

    assert (d / "run" / "ulm_best.safetensors").is_file()  # no validation: best = latest
    return load_ulm(d / "run" / "ulm.safetensors"), d / "run" / "ulm.safetensors"


@pytest.mark.parametrize("deep", [False, True])
def test_prompt_learns_and_keeps_lm_frozen(pretrained, deep, tmp_path):
    """Deep prompts beat the majority class on held-out data by a wide margin; shallow prompts on
    a 2-layer LM learn (loss falls) but are weak, as SpeechPrompt found for small LMs."""
    ulm, _ = pretrained
    before = {k: v.clone() for k, v in ulm.state_dict().items()}
    units, y = labelled(48, seed=1)
    test_units, test_y = labelled(30, seed=2)
    config = PromptConfig(classes=("a", "b", "c"), verbalizer=(0, 1, 2), prompt_length=4, deep=deep)
    tuner, losses = train_prompt(ulm, units, y, config, steps=100, lr=0.1, batch_size=16)
    assert all(torch.equal(before[k], v) for k, v in ulm.state_dict().items())
    assert sum(losses[-10:]) < (0.8 if deep else 1.0) * sum(losses[:10])
    acc = sum(p == t for p, t in zip(tuner.predict(test_units), test_y)) / len(test_y)
    if deep:
        assert acc > majority_accuracy(y, test_y) + 0.2
    loaded = load_prompt(save_prompt(tmp_path / "p.safetensors", tuner), ulm)
    torch.testing.assert_close(loaded(test_units[:5]), tuner(test_units[:5]))


def test_deep_prompts_equal_a_hand_filled_cache():
    """With deep prompts, the tuner's class logits equal a hand-built run of the LM whose cache
    holds the deep keys/values and which reads the prompt vectors, then the tokens one by one."""
    torch.manual_seed(0)
    ulm = UnitLM(UnitLMConfig.tiny(vocab_size=12)).eval()
    cfg = PromptConfig(classes=("a", "b"), verbalizer=(3, 4), prompt_length=2, deep=True)
    tuner = PromptTuner(ulm, cfg)
    u = torch.tensor([1, 2, 5])
    with torch.no_grad():
        cache = ulm.new_cache(1, 16)
        for i in range(ulm.config.num_layers):
            cache.k[i][:, :, :2] = tuner.deep_k[i]
            cache.v[i][:, :, :2] = tuner.deep_v[i]
        cache.length = cache.prefix = 2
        # prompt vectors then tokens, fed one at a time through the cache
        x = tuner.prompt.unsqueeze(0)
        ulm(torch.tensor([[ulm.eos]])[:, :0], cache, prefix=x)
        tokens = torch.cat([torch.tensor([ulm.eos]), u]).unsqueeze(0)
        steps = [ulm(tokens[:, t:t + 1], cache) for t in range(tokens.shape[1])]
        expect = steps[-1][0, -1, [ulm.tokens_of(torch.tensor(3)), ulm.tokens_of(torch.tensor(4))]]
        torch.testing.assert_close(tuner([u])[0], expect, atol=1e-5, rtol=1e-5)


def test_train_prompt_cli(pretrained, tmp_path, capsys):
    _, lm = pretrained
    units, y = labelled(30, seed=3)
    vunits, vy = labelled(12, seed=4)
    names = ["a", "b", "c"]
    write_units(tmp_path / "tr.jsonl", [Units(u, vocab_size=12, id=f"t{i}") for i, u in enumerate(units)])
    write_units(tmp_path / "va.jsonl", [Units(u, vocab_size=12, id=f"v{i}") for i, u in enumerate(vunits)])
    (tmp_path / "labels.tsv").write_text("".join(
        [f"t{i}\t{names[c]}\n" for i, c in enumerate(y)] + [f"v{i}\t{names[c]}\n" for i, c in enumerate(vy)]))
    assert main(["train", "prompt", "--ulm", str(lm), "--units", str(tmp_path / "tr.jsonl"),
                 "--labels", str(tmp_path / "labels.tsv"), "--valid-units", str(tmp_path / "va.jsonl"),
                 "--out", str(tmp_path / "p"), "--steps", "30", "--prompt-length", "4"]) == 0
    import json

    m = json.loads((tmp_path / "p" / "metrics.json").read_text())
    assert m["classes"] == names and 0 <= m["valid_accuracy"] <= 1
    assert m["valid_majority_baseline"] == majority_accuracy(y, vy)
