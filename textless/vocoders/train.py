"""Train a unit vocoder on audio + units (CPU or GPU, single process or DDP under torchrun).

``arch="hifigan"`` (default): a :class:`UnitHiFiGAN` against multi-period + multi-scale
discriminators. ``arch="vocos"``: a :class:`~textless.vocoders.vocos.UnitVocos` against
multi-period + multi-resolution discriminators. Both: LSGAN + feature matching + mel-L1, with an
optional mel-L1-only warm-up (``disc_start``).

The corpus is loaded into memory: each utterance as ``wav [N * hop]`` float32 and
``units [N]`` int64 (undeduplicated frames), with an optional speaker index and unit-aligned
normalised F0 ``[N]``. Every step draws its global batch of random segment crops from a
generator seeded by ``(seed, step)`` and rank ``r`` of ``W`` takes the slice ``r``; so a run
resumed from a checkpoint, or split over processes, sees exactly the batches of an
uninterrupted single run. The learning rate is a pure function of the step (no scheduler state).

Output folder: ``state.pt`` (training state, ``torch.save``, read with ``weights_only=True``),
``generator.safetensors`` (folded generator, our format), ``samples/step_XXXXXXXX.wav`` (first
validation utterance), ``log.jsonl`` (losses and validation mel-L1 per checkpoint), and with
``snapshot_every`` a copy of the generator ``snapshots/step_<N>.safetensors`` at those steps
(for ``recipes/vocoder_curve.py``). All files are written atomically by rank 0.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..audio import write_audio
from ..checkpoint import load_torch_file
from ..errors import TextlessError
from ..files import atomic_open, atomic_path
from ..progress import progress
from .checkpoint import save_vocoder
from .data import Utterance, draw_batch, duration_targets, load_corpus
from .discriminators import MultiPeriodDiscriminator, MultiResolutionDiscriminator, MultiScaleDiscriminator
from .hifigan import UnitHiFiGAN, VocoderConfig, apply_weight_norm
from .losses import LogMel, MelConfig, discriminator_loss, feature_loss, generator_loss

log = logging.getLogger(__name__)
STATE_FILE = "state.pt"
ARCHS = ("hifigan", "vocos")
GENERATOR_FILE = "generator.safetensors"


@dataclass(frozen=True)
class TrainConfig:
    """``steps`` optimizer steps of ``batch_size`` segments (per process) of ``segment_frames`` unit
    frames. Learning rate ``lr * lr_decay ** (step / 1000)``; Adam ``betas``. Losses: LSGAN +
    feature matching + ``mel_weight`` * mel-L1 (+ ``dur_weight`` * duration MSE on log(d + 1)).
    ``disc_width`` scales the discriminators' channels: at 1.0 (HiFi-GAN) they cost ~30x the
    ``small`` generator per step, at the default 0.125 about as much (a CPU budget; use 1.0 on a GPU).
    Before step ``disc_start`` the generator learns from mel-L1 (+ duration) alone and the
    discriminators are not run: a cheap warm-up that makes the units audible early on a CPU."""

    steps: int = 10000
    batch_size: int = 8
    segment_frames: int = 32
    lr: float = 2e-4
    betas: tuple = (0.8, 0.99)
    lr_decay: float = 0.999
    checkpoint_every: int = 500
    snapshot_every: int = 0  # keep the generator of every such step (0: none); at checkpoints only
    valid_utterances: int = 2
    f0: bool = False
    f0_method: str = "dio"
    speakers: bool = False
    duration_predictor: bool = False
    disc_width: float = 0.125
    mel_weight: float = 45.0
    dur_weight: float = 1.0
    disc_start: int = 0
    seed: int = 0
    arch: str = "hifigan"

    def __post_init__(self):
        if self.arch not in ARCHS:
            raise TextlessError(f"unknown vocoder architecture --arch {self.arch!r}; known: {', '.join(ARCHS)}")


# ---------------------------------------------------------------------------- generator presets
def upsample_plan(hop_length: int) -> tuple[tuple, tuple]:
    """Upsample rates (product ``hop_length``) and kernels (``2u`` or ``2u + 1``, so ``k - u`` is
    even): factors 5 and 3 first, then 4s, then a 2.

    >>> upsample_plan(320)
    ((5, 4, 4, 4), (11, 8, 8, 8))
    >>> upsample_plan(160)
    ((5, 4, 4, 2), (11, 8, 8, 4))
    """
    n, rates = hop_length, []
    for p in (7, 5, 3):
        while n % p == 0:
            rates.append(p)
            n //= p
    while n % 4 == 0:
        rates.append(4)
        n //= 4
    if n % 2 == 0:
        rates.append(2)
        n //= 2
    if n != 1 or not rates:
        raise TextlessError(f"hop of {hop_length} samples cannot be factored into upsampling rates 2-7")
    return tuple(rates), tuple(2 * u if u % 2 == 0 else 2 * u + 1 for u in rates)


def generator_config(preset: str, *, vocab_size: int, sample_rate: int, hop_length: int, arch: str = "hifigan",
                     **extra):
    """hifigan: ``"small"`` (128 channels, CPU-trainable), ``"v1"`` (HiFi-GAN V1: 512 channels) or a
    JSON file of :class:`VocoderConfig` fields. vocos: ``"small"`` or ``"base"``
    (:func:`~textless.vocoders.vocos.vocos_config`) or a JSON file of ``VocosConfig`` fields.
    ``vocab_size``/``sample_rate`` (and the Vocos ``hop_length``) come from the data."""
    base = dict(vocab_size=vocab_size, sample_rate=sample_rate, **extra)
    if arch == "vocos":
        from .vocos import VocosConfig, vocos_config

        if preset in ("small", "base"):
            return vocos_config(preset, hop_length=hop_length, **base)
        base.update(_json_fields(preset, VocosConfig, ("small", "base")), hop_length=hop_length)
        return VocosConfig(**base)
    if preset in ("small", "v1"):
        if preset == "v1" and hop_length == 320:
            rates, kernels = (5, 4, 4, 2, 2), (11, 8, 8, 4, 4)
        else:
            rates, kernels = upsample_plan(hop_length)
        base.update(upsample_rates=rates, upsample_kernel_sizes=kernels,
                    upsample_initial_channel=128 if preset == "small" else 512)
    else:
        base.update(_json_fields(preset, VocoderConfig, ("small", "v1")))
    config = VocoderConfig(**base)
    if config.hop_length != hop_length:
        raise TextlessError(f"generator hop {config.hop_length} != {hop_length} samples per unit frame")
    return config


def _json_fields(preset: str, cls, presets: tuple) -> dict:
    """Fields of ``cls`` from the JSON file ``preset`` (lists as tuples; vocab/rate/hop dropped)."""
    path = Path(preset)
    if not path.is_file():
        raise TextlessError(f"--config {preset}: not {' or '.join(repr(p) for p in presets)} or a JSON file")
    try:
        fields = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise TextlessError(f"{path}: not JSON ({e.msg})") from None
    unknown = set(fields) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TextlessError(f"{path}: unknown {cls.__name__} fields {sorted(unknown)}")
    return {k: (tuple(map(tuple, v)) if k == "resblock_dilation_sizes" else tuple(v) if isinstance(v, list) else v)
            for k, v in fields.items() if k not in ("vocab_size", "sample_rate", "hop_length")}


class _GeneratorStep(torch.nn.Module):
    """One forward for DDP: waveform of the segment + predicted log-durations of its dedup units."""

    def __init__(self, generator: UnitHiFiGAN):
        super().__init__()
        self.generator = generator

    def forward(self, code, f0, speaker, dedup_units):
        g = self.generator
        wav = g(code, f0=f0, speaker=speaker if g.config.has_speakers else None)
        log_dur = g.dur_predictor(g.dict(dedup_units)) if dedup_units is not None else None
        return wav, log_dur


class _Discriminators(torch.nn.Module):
    """MPD + MSD (hifigan) or MPD + MRD (vocos), ``width`` scaling their channels."""

    def __init__(self, width: float, arch: str = "hifigan"):
        super().__init__()
        self.mpd = MultiPeriodDiscriminator(width=width)
        if arch == "vocos":
            self.mrd = MultiResolutionDiscriminator(width=width)
        else:
            self.msd = MultiScaleDiscriminator(width=width)

    def forward(self, wav):
        sp, fp = self.mpd(wav)
        ss, fs = (self.mrd if hasattr(self, "mrd") else self.msd)(wav)
        return sp + ss, fp + fs


def build_models(vconf, cfg: "TrainConfig"):
    """Random-init generator (weight norm on for a HiFi-GAN) and discriminators of ``cfg.arch``,
    from the torch seed as it stands."""
    if cfg.arch == "vocos":
        from .vocos import UnitVocos

        G = UnitVocos(vconf)
    else:
        G = apply_weight_norm(UnitHiFiGAN(vconf))
    return G.train(), _Discriminators(cfg.disc_width, cfg.arch).train()


def _load_init(G, path, vconf):
    """Copy the weights of the generator file ``path`` into ``G`` (weight norm re-applied to a
    folded HiFi-GAN), after checking that both have the same config."""
    from .checkpoint import load_vocoder

    start = load_vocoder(path)
    if type(start.config) is not type(vconf) or start.config != vconf:
        mine, theirs = dataclasses.asdict(vconf), dataclasses.asdict(start.config)
        diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        raise TextlessError(f"--init {path}: another generator config than this run's (differs in {diff})")
    if isinstance(start, UnitHiFiGAN):
        start = apply_weight_norm(start)
    G.load_state_dict(start.state_dict())
    log.info("starting from the generator %s", path)


# ---------------------------------------------------------------------------- training
def _dist():
    import torch.distributed as dist

    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        if not dist.is_initialized():
            dist.init_process_group("gloo" if not torch.cuda.is_available() else "nccl")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _save_state(path: Path, state: dict):
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


@torch.no_grad()
def validate(generator, utts: list[Utterance], logmel: LogMel) -> float:
    """Mean log-mel L1 between the generator's output and the audio of ``utts`` (whole utterances)."""
    was = generator.training
    generator.eval()
    losses = []
    for u in utts:
        f0 = u.f0[None] if u.f0 is not None else None
        spk = torch.tensor([u.speaker]) if generator.config.has_speakers else None
        wav = generator(u.units[None], f0=f0, speaker=spk)
        losses.append(float(F.l1_loss(logmel(wav), logmel(u.wav[None]))))
    generator.train(was)
    return float(np.mean(losses))


def train_vocoder(audio, out_dir, cfg: TrainConfig = TrainConfig(), *, units=None, model=None,
                  generator: str | VocoderConfig = "small", sample_rate: int = 16000, init=None,
                  show_progress: bool = True) -> Path:
    """Train (or resume, when ``out_dir/state.pt`` exists) a unit vocoder of ``cfg.arch``; returns
    the path of the exported ``generator.safetensors``. See the module docstring for the files.
    ``init``: a generator file to start from instead of random weights (a fresh run only; its
    config must equal the one ``generator`` and the data give)."""
    rank, world = _dist()
    out_dir = Path(out_dir)
    utts, frame_rate, vocab, speakers, f0_stats = load_corpus(
        audio, sample_rate, units_path=units, model=model, f0=cfg.f0, f0_method=cfg.f0_method,
        show_progress=show_progress and rank == 0,
    )
    hop = int(round(sample_rate / frame_rate))
    extra = dict(f0=cfg.f0, duration_predictor=cfg.duration_predictor)
    if cfg.speakers:
        if not speakers:
            raise TextlessError("--speakers needs a speaker column in the audio list (path<TAB>speaker)")
        extra.update(num_speakers=len(speakers), speakers=tuple(speakers))
    vconf = generator if not isinstance(generator, str) else generator_config(
        generator, vocab_size=vocab, sample_rate=sample_rate, hop_length=hop, arch=cfg.arch, **extra)
    n_valid = min(cfg.valid_utterances, len(utts) - 1)
    valid, train = utts[:n_valid], utts[n_valid:]
    train = [u for u in train if u.units.numel() >= cfg.segment_frames]
    if not train:
        raise TextlessError(f"no training utterance has {cfg.segment_frames} unit frames: lower --segment-frames")

    torch.manual_seed(cfg.seed)
    G, D = build_models(vconf, cfg)
    state_path = out_dir / STATE_FILE
    if init is not None and not state_path.is_file():
        _load_init(G, init, vconf)
    opt_g = torch.optim.AdamW(G.parameters(), cfg.lr, betas=cfg.betas, weight_decay=0.01)
    opt_d = torch.optim.AdamW(D.parameters(), cfg.lr, betas=cfg.betas, weight_decay=0.01)
    step = 0
    if state_path.is_file():
        state = load_torch_file(state_path, "a vocoder training state")
        if state["train_config"].get("arch", "hifigan") != cfg.arch:
            raise TextlessError(f"{state_path}: saved for --arch {state['train_config'].get('arch', 'hifigan')}")
        if state["vocoder_config"] != dataclasses.asdict(vconf):
            raise TextlessError(f"{state_path}: saved for another generator config; use a new --out")
        if state["train_config"]["disc_width"] != cfg.disc_width:
            raise TextlessError(f"{state_path}: saved with --disc-width {state['train_config']['disc_width']}")
        G.load_state_dict(state["generator"])
        D.load_state_dict(state["discriminators"])
        opt_g.load_state_dict(state["optim_g"])
        opt_d.load_state_dict(state["optim_d"])
        step = int(state["step"])
        log.info("resuming from step %d", step)
    logmel = LogMel(MelConfig(sample_rate=sample_rate))
    G_step, D_run = _GeneratorStep(G), D
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        G_step, D_run = DDP(G_step), DDP(D)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(out_dir / "train_config.json", "w") as f:
            json.dump({"train": dataclasses.asdict(cfg), "generator": dataclasses.asdict(vconf),
                       "speakers": speakers, "f0_stats": f0_stats, "world_size": world}, f, indent=2)

    bar = progress(total=cfg.steps, initial=step, desc="training vocoder", unit="step",
                   enabled=show_progress and rank == 0)
    last = {}
    while step < cfg.steps:
        torch.manual_seed(cfg.seed * 1_000_003 + step * world + rank)  # dropout of the dur predictor
        lr = cfg.lr * cfg.lr_decay ** (step / 1000)
        for opt in (opt_g, opt_d):
            for group in opt.param_groups:
                group["lr"] = lr
        b = draw_batch(train, step, cfg.seed, cfg.batch_size, rank, world, cfg.segment_frames, hop)
        last = train_step(G_step, D_run, opt_g, opt_d, b, logmel, cfg, vconf, step >= cfg.disc_start)
        last["lr"] = lr
        step += 1
        bar.update(1)
        bar.set_postfix(mel=f"{last['loss_mel']:.3f}", d=f"{last['loss_d']:.3f}")
        if rank == 0 and (step % cfg.checkpoint_every == 0 or step == cfg.steps):
            _checkpoint(out_dir, step, G, D, opt_g, opt_d, vconf, cfg, valid, logmel, last)
    bar.close()
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    return out_dir / GENERATOR_FILE


def train_step(G_step, D_run, opt_g, opt_d, b: dict, logmel, cfg: TrainConfig, vconf, adversarial: bool) -> dict:
    """One optimizer step of the discriminators (when ``adversarial``) then of the generator on
    the batch ``b`` (from :func:`draw_batch`); returns the losses as floats."""
    dedup_units = durs = mask = None
    if vconf.duration_predictor:
        dedup_units, durs, mask = duration_targets(b["code"])
    real = b["wav"].unsqueeze(1)
    fake, log_dur = G_step(b["code"], b["f0"], b["speaker"], dedup_units)
    fake = fake.unsqueeze(1)

    loss_d = loss_adv = loss_fm = torch.zeros(())
    if adversarial:
        opt_d.zero_grad(set_to_none=True)
        real_scores, _ = D_run(real)
        fake_scores, _ = D_run(fake.detach())
        loss_d = discriminator_loss(real_scores, fake_scores)
        loss_d.backward()
        opt_d.step()

    opt_g.zero_grad(set_to_none=True)
    loss_mel = F.l1_loss(logmel(fake), logmel(real))
    if adversarial:
        with torch.no_grad():  # real feature maps are targets only
            _, real_fmaps = D_run(real)
        fake_scores, fake_fmaps = D_run(fake)
        loss_adv = generator_loss(fake_scores)
        loss_fm = feature_loss(real_fmaps, fake_fmaps)
    loss_g = loss_adv + loss_fm + cfg.mel_weight * loss_mel
    loss_dur = torch.zeros(())
    if log_dur is not None:
        target = torch.log(durs.float() + 1)
        loss_dur = ((log_dur - target) ** 2 * mask).sum() / mask.sum()
        loss_g = loss_g + cfg.dur_weight * loss_dur
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_adv": loss_adv.item(), "loss_fm": loss_fm.item(),
            "loss_mel": loss_mel.item(), "loss_dur": loss_dur.item()}


def _checkpoint(out_dir, step, G, D, opt_g, opt_d, vconf, cfg, valid, logmel, losses):
    _save_state(out_dir / STATE_FILE, {
        "step": step, "generator": G.state_dict(), "discriminators": D.state_dict(),
        "optim_g": opt_g.state_dict(), "optim_d": opt_d.state_dict(),
        "vocoder_config": dataclasses.asdict(vconf), "train_config": dataclasses.asdict(cfg),
    })
    save_vocoder(G, out_dir / GENERATOR_FILE)
    if cfg.snapshot_every and step % cfg.snapshot_every == 0:
        (out_dir / "snapshots").mkdir(exist_ok=True)
        save_vocoder(G, out_dir / "snapshots" / f"step_{step}.safetensors")
    record = {"step": step, **losses}
    if valid:
        record["valid_mel_l1"] = validate(G, valid, logmel)
        u = valid[0]
        with torch.no_grad():
            G.eval()
            wav = G(u.units[None], f0=u.f0[None] if u.f0 is not None else None,
                    speaker=torch.tensor([u.speaker]) if vconf.has_speakers else None)[0]
            G.train()
        write_audio(out_dir / "samples" / f"step_{step:08d}.wav", wav, vconf.sample_rate)
    log_path = out_dir / "log.jsonl"
    previous = log_path.read_text() if log_path.is_file() else ""
    with atomic_open(log_path, "w") as f:
        f.write(previous + json.dumps(record) + "\n")
    log.info("step %d: %s", step, record)
