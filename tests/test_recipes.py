"""The recipes drive the library through its API with typed presets (no training here: the
trainers are replaced by recorders)."""

import ast
import importlib
import json
from pathlib import Path

import pytest
import torch

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
SCRIPTS = sorted(p.stem for p in RECIPES.glob("*.py"))
MAINS = [s for s in SCRIPTS if "def main(" in (RECIPES / f"{s}.py").read_text()]


@pytest.fixture
def recipe(monkeypatch):
    """Import a recipe module as its script does (the recipes folder on ``sys.path``)."""
    monkeypatch.syspath_prepend(str(RECIPES))
    return importlib.import_module


def test_every_script_is_a_recipe_with_main():
    assert {"common", "default", "evaluate", "encoder_choice"} <= set(SCRIPTS)
    assert set(SCRIPTS) - set(MAINS) == {"common", "encoder_choice"}  # modules the scripts share


@pytest.mark.parametrize("name", MAINS)
def test_help(recipe, name, capsys):
    with pytest.raises(SystemExit) as e:
        recipe(name).main(["--help"])
    assert e.value.code == 0
    assert "usage:" in capsys.readouterr().out


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_subprocess_and_no_script_imports(name):
    """Recipes call the library, not the CLI, and share code through common.py only."""
    tree = ast.parse((RECIPES / f"{name}.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) != ("os", "system"), name
    assert "subprocess" not in imported
    assert not imported & (set(MAINS) - {name}), f"{name} imports another recipe's script"


def test_presets_are_the_trainers_configs(recipe):
    from textless.ulm.model import UnitLMConfig
    from textless.ulm.train import TrainConfig as UlmTrainConfig
    from textless.vocoders.train import TrainConfig as VocoderTrainConfig

    presets = recipe("default").PRESETS
    quick, full = presets["quick"], presets["full"]
    for p in presets.values():
        assert isinstance(p.ulm, UlmTrainConfig) and isinstance(p.ulm_model, UnitLMConfig)
        assert isinstance(p.vocoder, VocoderTrainConfig) and p.vocoder_generator == "small"
        assert p.vocoder.duration_predictor and p.vocoder.snapshot_every % p.vocoder.save_every == 0
    m, t = quick.ulm_model, quick.ulm
    assert (m.num_layers, m.dim, m.num_heads, m.ffn_dim) == (4, 256, 4, 1024)
    assert (t.steps, t.max_tokens, t.warmup_steps, t.save_every, t.valid_every) == (1500, 2048, 50, 50, 100)
    v = quick.vocoder
    assert (v.arch, v.steps, v.disc_start, v.batch_size, v.segment_frames, v.lr, v.save_every,
            v.snapshot_every, v.valid_every) == ("vocos", 10000, 10000, 8, 32, 2e-4, 500, 5000, 500)
    assert quick.unit_k == full.unit_k == 50 and (quick.unit_kmeans_files, quick.unit_kmeans_frames) == (600, 100_000)
    m, t = full.ulm_model, full.ulm
    assert (m.num_layers, m.dim, m.num_heads, m.ffn_dim) == (6, 384, 6, 1536)
    assert (t.steps, t.max_tokens, t.warmup_steps, t.save_every, t.valid_every) == (6000, 8192, 400, 100, 100)
    v = full.vocoder
    assert (v.steps, v.disc_start, v.batch_size, v.segment_frames, v.disc_width, v.save_every,
            v.snapshot_every) == (100000, 20000, 16, 32, 1.0, 1000, 10000)
    assert [c.steps for c in quick.invariant] == [1500, 4000] and [c.steps for c in full.invariant] == [40000] * 2
    assert [c.model.dim for c in quick.invariant] == [192, 256]


def test_stages_call_the_trainers_with_the_preset(recipe, tmp_path, monkeypatch):
    import textless.ulm.train
    import textless.vocoders.train
    from textless.units import Units, write_units

    calls = {}
    monkeypatch.setattr(textless.ulm.train, "train_ulm", lambda c, m=None: calls.setdefault("ulm", (c, m)))
    monkeypatch.setattr(textless.vocoders.train, "train_vocoder",
                        lambda audio, out, cfg, **kw: calls.setdefault("vocoder", (audio, out, cfg, kw)))
    write_units(tmp_path / "units" / "train.jsonl",
                [Units(torch.tensor([3, 3, 7, 1]), frame_rate=50.0, vocab_size=42, id="a")])
    default = recipe("default")
    default.main(["--work", str(tmp_path), "--preset", "quick", "--stages", "ulm,vocoder",
                  "--device", "cuda:1", "--seed", "7"])
    quick = default.PRESETS["quick"]

    cfg, model = calls["ulm"]
    assert cfg.train == str(tmp_path / "units" / "train.jsonl") and cfg.out_dir == str(tmp_path / "ulm")
    assert (cfg.seed, cfg.device, cfg.steps, cfg.max_tokens) == (7, "cuda:1", 1500, 2048)
    assert model.vocab_size == 42 and (model.num_layers, model.dim) == (4, 256)
    audio, out, vcfg, kw = calls["vocoder"]
    assert (audio, out) == (tmp_path / "vocoder_voice" / "wav", tmp_path / "vocoder")
    assert (vcfg.seed, vcfg.device, vcfg.steps, vcfg.arch) == (7, "cuda:1", 10000, "vocos")
    assert kw == {"units": tmp_path / "units" / "vocoder_voice.jsonl", "generator": "small"}
    assert vcfg == quick.vocoder.__class__(**{**vars(quick.vocoder), "seed": 7, "device": "cuda:1"})


def test_invariant_iterations_align_on_the_previous_run(recipe, tmp_path, monkeypatch):
    import dataclasses

    import textless.encoders.train

    calls = []
    monkeypatch.setattr(textless.encoders.train, "train_encoder", calls.append)
    default = recipe("default")
    quick = default.PRESETS["quick"]
    p = dataclasses.replace(quick, invariant=quick.invariant + (quick.invariant[0],))
    default.stage_invariant(tmp_path, p, seed=5, device="cpu")
    runs = [tmp_path / "invariant", tmp_path / "invariant2", tmp_path / "invariant3"]
    assert [c.out_dir for c in calls] == list(map(str, runs)) == list(map(str, default.invariant_runs(tmp_path, p)))
    assert [c.align_with for c in calls] == [None, str(runs[0]), str(runs[1])]
    stage_set = ("corpora", "targets", "out_dir", "align_with", "seed", "device")
    assert [dataclasses.replace(c, **{f: getattr(cfg, f) for f in stage_set}) for c, cfg in zip(calls, p.invariant)] \
        == list(p.invariant)  # each iteration its own preset config, the stage sets only these fields
    assert calls[0].seed == 5 and calls[0].targets == str(tmp_path / "units" / "targets.jsonl")


def test_corpus_stage_synthesizes_missing_corpora(recipe, tmp_path, monkeypatch):
    import textless.data.synth
    from textless.data.voices import HELDOUT_VOICES, PARALLEL_VOICES

    calls = []
    monkeypatch.setattr(textless.data.synth, "synthesize_corpus",
                        lambda sentences, voices, out, **kw: calls.append((Path(out).name, len(sentences),
                                                                           voices, kw)))
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "manifest.tsv").write_text("/\n")  # exists: skipped
    default = recipe("default")
    default.stage_corpus(tmp_path, default.PRESETS["quick"], seed=5)
    got = {name: (n, voices, kw) for name, n, voices, kw in calls}
    assert [c[0] for c in calls] == ["heldout", "vocoder_voice", "canonical", "parallel", "canonical2", "parallel2"]
    assert got["heldout"][:2] == (160, list(HELDOUT_VOICES)) and got["heldout"][2]["seed"] == 1005
    assert got["vocoder_voice"][:2] == (2500, [default.VOCODER_VOICE])
    assert got["parallel"][:2] == (1600, list(PARALLEL_VOICES))
    assert got["parallel"][2] == {"seed": 5, "utterances_per_sentence": 6, "first_index": 0}
    assert got["canonical2"][2] == {"seed": 6, "utterances_per_sentence": 1, "first_index": 1600}


def test_resynthesis_wer_writes_what_eval_wer_writes(recipe, tmp_path, monkeypatch):
    """The recipes' WER helper writes the same JSON as ``textless eval wer --no-phones -o``."""
    from textless.eval import asr

    monkeypatch.setattr(asr, "get_backend", lambda *a, **k: "backend")
    monkeypatch.setattr(asr, "pair_folders", lambda ref, syn, texts: [(ref, syn, texts)])
    seen = {}

    def intelligibility(utts, backend, phones=True):
        seen.update(utts=utts, backend=backend, phones=phones)
        return {"wer_reference": 0.2, "wer_resynthesis": 0.6}

    monkeypatch.setattr(asr, "intelligibility", intelligibility)
    (tmp_path / "t.tsv").write_text("a\thello there\n")
    common = recipe("common")
    wer = common.resynthesis_wer(tmp_path / "ref", tmp_path / "syn", tmp_path / "t.tsv", tmp_path / "w.json")
    assert seen == {"utts": [(tmp_path / "ref", tmp_path / "syn", {"a": "hello there"})], "backend": "backend",
                    "phones": False}
    assert json.loads((tmp_path / "w.json").read_text()) == wer
    assert common.word_accuracy_ratio(wer) == pytest.approx(0.5)


def test_vocoder_compare_ends_the_warm_up_after_a_fraction_of_the_budget(recipe, tmp_path, monkeypatch):
    """Equal warm-up time, not steps: with a 60 s budget, rounds of 10 s and --disc-start-frac 0.5,
    the discriminators start at the first round that begins after 30 s, for each arch at its own
    step; points are kept at 1/3, 2/3 and 3/3 of the budget; a rerun resumes from budget.json."""
    vc = recipe("vocoder_compare")
    clock, calls = [0.0], []

    def round_(arch, args, run, steps, disc_start):
        calls.append((arch, steps, disc_start))
        clock[0] += 10.0
        run.mkdir(parents=True, exist_ok=True)
        (run / "log.jsonl").write_text(json.dumps({"step": steps, "valid_mel_l1": 1.0 / steps}) + "\n")
        (run / "generator.safetensors").write_text(str(steps))
        return run / "generator.safetensors"

    monkeypatch.setattr(vc, "train_round", round_)
    monkeypatch.setattr(vc.time, "perf_counter", lambda: clock[0])
    args = vc.argparse.Namespace(budget_min=1.0, archs=["hifigan", "vocos"], out=tmp_path, round_steps=100,
                                 points=3, disc_start=0, disc_start_frac=0.5)
    points = vc.train_both(args)
    for arch in args.archs:
        mine = [(s, d) for a, s, d in calls if a == arch]
        assert mine == [(100, vc.NEVER), (200, vc.NEVER), (300, vc.NEVER), (400, 300), (500, 300), (600, 300)]
        assert [(p["point"], p["step"], p["adversarial_steps"]) for p in points[arch]] == [(1, 200, 0), (2, 400, 100), (3, 600, 300)]
        assert (tmp_path / arch / "points" / "p3.safetensors").read_text() == "600"
    calls.clear()
    assert vc.train_both(args) == points and calls == []  # the budget is spent: nothing runs again


def test_encoder_choice_runs_the_kmeans_feature_pass_on_the_device(recipe, tmp_path, monkeypatch):
    """``--device`` reaches the k-means pass (on a copy of the encoder: candidates are scored on
    the CPU); the meta device stands in for a GPU."""
    import textless.quantizers.kmeans as km

    choice = recipe("encoder_choice")
    seen = []

    def kmeans(encoder, paths, k, *, device, **kw):
        seen.append((k, device, {p.device.type for p in encoder.buffers()}))
        return km.KMeansQuantizer(torch.randn(k, 39), kw["encoder_name"], kw["layer"])

    scored = []
    monkeypatch.setattr(km, "train_kmeans_on_corpus", kmeans)
    monkeypatch.setattr(choice, "corpus_paths", lambda folder: [])
    monkeypatch.setattr(choice, "heldout_item", lambda work: work / "heldout.item")
    monkeypatch.setattr(choice, "score_candidate", lambda enc, q, layer, wavs, item: scored.append(
        {p.device.type for p in enc.buffers()}) or {"abx_within": 0.1, "abx_across": 0.2, "bitrate_vocab": 10})
    selection = choice.choose_encoder(tmp_path, ks=(5, 7), kmeans_frames=100, hubert_steps=0, hubert_layers=(),
                                      hubert_k=5, seed=0, device="meta")
    assert seen == [(5, "meta", {"meta"}), (7, "meta", {"meta"})]
    assert scored == [{"cpu"}, {"cpu"}] and selection["chosen"] == "mfcc-k5"
    assert (tmp_path / "components" / "quantizer.safetensors").is_file()


def test_alignment_quality_reads_the_phone_at_each_frame_centre(recipe):
    """50 Hz frames (25 ms windows) take the phone their centre lies in, SIL in gaps and after."""
    from textless.data.align import PhoneSegment, WordSegment

    w = WordSegment("AT", 0.05, 0.15, [PhoneSegment("AE", 0.05, 0.09), PhoneSegment("T", 0.09, 0.15)])
    # centres 0.0125, 0.0325, 0.0525, 0.0725, 0.0925, 0.1125, 0.1325, 0.1525
    assert recipe("alignment_quality").frame_phones([w], 8) == ["SIL", "SIL", "AE", "AE", "T", "T", "T", "SIL"]


def test_training_sample_is_seeded_and_bounded(recipe, tmp_path):
    """The k-means sample (unit_inventory.py, the ``units`` stage) is a seeded draw of the given corpora."""
    for corpus, n in (("canonical", 3), ("parallel2", 4)):
        (tmp_path / corpus).mkdir()
        rows = [f"wav/{corpus}_{i}.wav\t16000" for i in range(n)]
        (tmp_path / corpus / "manifest.tsv").write_text("\n".join([str(tmp_path / corpus), *rows]) + "\n")
    sample = recipe("common").training_sample
    corpora = [tmp_path / "canonical", tmp_path / "parallel2"]
    assert len(sample(corpora, 5, seed=1)) == 5 and sample(corpora, 5, seed=1) == sample(corpora, 5, seed=1)
    assert sample(corpora, 5, seed=1) != sample(corpora, 5, seed=2)
    assert len(sample(corpora, 100, seed=1)) == 7


def test_units_stage_fits_kmeans_on_the_last_iteration_or_keeps_the_head(recipe, tmp_path, monkeypatch):
    import dataclasses

    import textless.components
    import textless.quantizers.kmeans

    class Encoder:
        num_layers = 4

        def eval(self):
            return self

        def to(self, device):
            self.device = device
            return self

    calls, saved = [], []

    class Quantizer:
        def save(self, path):
            saved.append(path)

    def kmeans(encoder, paths, k, **kw):
        calls.append((encoder.device, paths, k, kw))
        return Quantizer()

    monkeypatch.setattr(textless.components, "load_component", lambda path: Encoder())
    monkeypatch.setattr(textless.quantizers.kmeans, "train_kmeans_on_corpus", kmeans)
    default, common = recipe("default"), recipe("common")
    monkeypatch.setattr(common, "training_sample", lambda corpora, n, seed: [tuple(corpora), n, seed])
    quick = default.PRESETS["quick"]
    default.stage_units(tmp_path, quick, seed=3, device="cuda:0")
    ((device, paths, k, kw),) = calls
    assert (device, k, kw["layer"], kw["max_frames"], kw["seed"]) == ("cuda:0", 50, 4, 100_000, 3)
    assert paths == [tuple(default.parallel_corpora(tmp_path, quick)), 600, 3]  # never heldout/
    assert saved == [tmp_path / "units" / "kmeans50.safetensors"]
    assert default.unit_files(tmp_path, quick) == (tmp_path / "invariant2" / "encoder.safetensors", saved[0])
    head = dataclasses.replace(quick, unit_k=0)
    default.stage_units(tmp_path, head, seed=3, device="cpu")
    assert len(calls) == 1
    assert default.unit_files(tmp_path, head) == (tmp_path / "invariant2" / "encoder.safetensors",
                                                 tmp_path / "invariant2" / "quantizer.safetensors")
