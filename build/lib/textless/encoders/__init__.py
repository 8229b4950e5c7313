"""Dense speech encoders: HuBERT / wav2vec2 (:mod:`.hubert`) and spectral features (:mod:`.spectral`).

Import the submodules directly (``from textless.encoders.hubert import HubertEncoder``); this
package does no work at import.
"""
