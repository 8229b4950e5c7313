"""Gradio demo: continue a spoken prompt with a textless pipeline (encoder + unit LM + vocoder).

A client of the Python API only: :func:`textless.pipeline.load_pipeline` and
:meth:`~textless.pipeline.Pipeline.continue_speech`. Served by ``textless demo`` (or
``python demos/continuation.py`` in a checkout) through :func:`launch`; needs the ``demo`` extra
(``pip install 'textless[demo]'``: gradio, matplotlib), imported only when the demo is built.
Requests are queued (one continuation at a time), so several users wait rather than crash.
Limits a user meets: prompts up to ``MAX_PROMPT_S`` seconds, uploads up to ``MAX_UPLOAD_MB``
MB (Gradio refuses bigger ones before they reach the app: HTTP 413), seeds from 0 to
``MAX_SEED``; each is a message in the page, never a crash.
"""

from __future__ import annotations

import math
import threading

import numpy as np

MAX_PROMPT_S = 30.0
#: upload cap in MB (10**6 bytes, Gradio's "mb"); 30 s of 16-bit 48 kHz stereo wav is 5.8 MB
MAX_UPLOAD_MB = 20
#: seeds go to ``torch.Generator.manual_seed``; keep them to 32 bits, like numpy's
MAX_SEED = 2**32 - 1


def spectrogram_figure(wav: np.ndarray, sample_rate: int, boundary_s: float):
    """Log-magnitude spectrogram of ``wav: [T]`` with a vertical line at ``boundary_s`` seconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=100)
    ax.specgram(wav + 1e-7, NFFT=512, Fs=sample_rate, noverlap=384, cmap="magma")
    ax.axvline(boundary_s, color="cyan", linewidth=2, label="prompt | continuation")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


class ContinuationApp:
    """Holds loaded pipelines by name and answers the demo's requests."""

    def __init__(self, models: list[str], device: str = "cpu"):
        self.models = models
        self.device = device
        self._pipelines = {}
        self._lock = threading.Lock()

    def pipeline(self, model: str):
        from .pipeline import load_pipeline

        with self._lock:
            if model not in self._pipelines:
                self._pipelines[model] = load_pipeline(model, self.device)
            return self._pipelines[model]

    def run(self, audio_path, model, temperature, seed, duration_s):
        """-> (units text, (sr, prompt wav), (sr, continuation wav), spectrogram figure)."""
        import gradio as gr

        from .errors import AudioTooLongError, TextlessError

        if not audio_path:
            raise gr.Error("Upload or record some speech first.")
        seed = check_seed(seed)
        try:
            pipe = self.pipeline(model)
            if pipe.ulm is None or pipe.vocoder is None:
                raise gr.Error(f"{model} needs a unit LM and a vocoder to continue speech.")
            wav = pipe.load(audio_path, max_duration_s=MAX_PROMPT_S)
            result = pipe.continue_speech(
                wav, duration_s=float(duration_s), temperature=float(temperature),
                seed=seed, stop_at_eos=False,
            )
        except AudioTooLongError:
            raise gr.Error(f"The prompt is longer than {MAX_PROMPT_S:g} s: please trim it.") from None
        except TextlessError as e:
            raise gr.Error(str(e)) from None
        sr = result.sample_rate
        prompt = result.prompt_wav.cpu().numpy()
        cont = result.continuation_wavs[0].cpu().numpy()
        units = result.prompt.units.tolist()
        new = result.continuations[0].units.tolist()
        text = (
            f"prompt ({len(units)} units): {' '.join(map(str, units))}\n\n"
            f"continuation ({len(new)} units): {' '.join(map(str, new))}"
        )
        fig = spectrogram_figure(np.concatenate([prompt, cont]), sr, len(prompt) / sr)
        return text, (sr, _int16(prompt)), (sr, _int16(cont)), fig


def check_seed(seed) -> int:
    """The seed as an int in ``[0, MAX_SEED]``; anything else (empty, NaN, 2.5, -1, 1e30) is a
    ``gr.Error`` that the page shows, not an exception from deep in torch."""
    import gradio as gr

    try:
        value = float(seed)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value == int(value) and 0 <= value <= MAX_SEED):
        raise gr.Error(f"The seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}.")
    return int(value)


def _int16(wav: np.ndarray) -> np.ndarray:
    return (np.clip(wav, -1, 1) * 32767).astype(np.int16)


def require_gradio():
    """The ``gradio`` module, or a :class:`~textless.errors.TextlessError` naming the extra."""
    try:
        import gradio
    except ImportError:
        from .errors import TextlessError

        raise TextlessError("the demo needs gradio: pip install 'textless[demo]'") from None
    return gradio


def build_demo(models: list[str], device: str = "cpu"):
    """The Gradio Blocks app over the given pipeline names or folders."""
    gr = require_gradio()

    app = ContinuationApp(models, device)
    with gr.Blocks(title="textless: speech continuation") as demo:
        gr.Markdown(
            "# textless — continue a spoken prompt\n"
            "Speech → discrete units → unit language model → units → speech, with no text. "
            f"Prompts up to {MAX_PROMPT_S:g} s and {MAX_UPLOAD_MB} MB; wav, flac or ogg."
        )
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="prompt",
                                 elem_id="prompt-audio")
                model = gr.Dropdown(models, value=models[0], label="bundle")
                temperature = gr.Slider(0.1, 1.5, value=0.7, step=0.05, label="temperature")
                seed = gr.Number(value=0, precision=0, label=f"seed (0 to {MAX_SEED})")
                duration = gr.Slider(1.0, 15.0, value=4.0, step=0.5, label="continuation (s)")
                go = gr.Button("Continue", variant="primary", elem_id="continue-button")
            with gr.Column():
                units = gr.Textbox(label="deduplicated units", lines=6, elem_id="units-text")
                prompt_out = gr.Audio(label="resynthesized prompt", elem_id="prompt-out")
                cont_out = gr.Audio(label="continuation", elem_id="continuation-out")
                plot = gr.Plot(label="spectrogram: prompt | continuation")
        go.click(app.run, [audio, model, temperature, seed, duration],
                 [units, prompt_out, cont_out, plot])
    demo.queue(default_concurrency_limit=1, max_size=32)
    return demo


def launch(models: list[str], device: str = "cpu", **kwargs):
    """Build the app and serve it with the upload cap; ``kwargs`` go to ``Blocks.launch``
    (``server_name``, ``server_port``, ``prevent_thread_lock``, ...). Returns the app."""
    demo = build_demo(models, device)
    demo.launch(max_file_size=f"{MAX_UPLOAD_MB}mb", **kwargs)
    return demo
