import dataclasses
import hashlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from textless import bundle as bundle_mod
from textless import hub
from textless.errors import ChecksumError, DownloadError, ModelNotFoundError, TextlessError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "models.md"


def zoo_files() -> list[tuple[str, str, str, str]]:
    """``(bundle, file role, sha256, url)`` rows of the table in docs/models.md."""
    rows = re.findall(r"^\| (\S+) \| (\w+) \| `([0-9a-f]{64})` \| (\S+) \|$", DOCS.read_text(), re.M)
    return rows


_FILES = [(name, role, url, sha, None) for name, role, sha, url in zoo_files()]


def tofu_files() -> list[tuple[str, str, str]]:
    """``(bundle, file role, url)`` rows of docs/models.md whose sha256 is not published."""
    return re.findall(r"^\| (\S+) \| (\w+) \| none published \| (\S+) \|$", DOCS.read_text(), re.M)

PAYLOAD = b"pretend checkpoint bytes " * 4096


@pytest.fixture
def server(tmp_path):
    """A file server on 127.0.0.1 that counts the requests it answers."""
    root = tmp_path / "srv"
    root.mkdir()
    (root / "model.pt").write_bytes(PAYLOAD)
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def _cache_files():
    d = hub.cache_dir()
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_checksum_mismatch_leaves_nothing(server):
    base, _ = server
    f = hub.RemoteFile("checkpoint", f"{base}/model.pt", "0" * 64, "model.pt")
    with pytest.raises(ChecksumError, match="does not match"):
        hub.fetch_file(f)
    assert _cache_files() == []


def test_download_is_cached_then_reused(server):
    base, hits = server
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    f = hub.RemoteFile("checkpoint", f"{base}/model.pt", sha, "model.pt")
    path = hub.fetch_file(f)
    assert path == hub.cache_dir() / "model.pt" and path.read_bytes() == PAYLOAD
    assert hub.fetch_file(f) == path
    assert hits == ["/model.pt"]  # the second call did not touch the server
    assert _cache_files() == [".model.pt.sha256.json", "model.pt"]  # the file and its check record


def test_http_error_and_offline_name_the_file(server, monkeypatch):
    base, _ = server
    f = hub.RemoteFile("checkpoint", f"{base}/absent.pt", "0" * 64, "absent.pt")
    with pytest.raises(DownloadError, match=r"absent\.pt.*put it at .*hub/absent\.pt"):
        hub.fetch_file(f)
    monkeypatch.setenv("TEXTLESS_OFFLINE", "1")
    with pytest.raises(DownloadError, match="offline"):
        hub.fetch_file(hub.RemoteFile("checkpoint", f"{base}/model.pt", None, "model.pt"))
    assert _cache_files() == []


def test_file_url_download(tmp_path):
    src = tmp_path / "local.bin"
    src.write_bytes(PAYLOAD)
    f = hub.RemoteFile("checkpoint", src.as_uri(), hashlib.sha256(PAYLOAD).hexdigest(), "local.bin")
    assert hub.fetch_file(f).read_bytes() == PAYLOAD


def test_every_zoo_file_is_registered_once():
    """The registry holds exactly the files of docs/models.md, each under its bundle and role."""
    bundles = hub.registry()
    registered = {
        (f.url, f.sha256)
        for b in bundles.values()
        for f in b.files
        if not f.url.startswith(hub.PACKAGE_PREFIX)  # bundles shipped in textless/assets
    }
    tofu = tofu_files()
    assert {(url, sha) for _, _, url, sha, _ in _FILES} | {(url, None) for _, _, url in tofu} == registered
    # GSLM unit LMs; S2UT HiFi-GANs + configs; log-mel / wav2vec 2.0 k-means, Tacotron2 + code_dict,
    # and wav2vec_vox_new.pt
    assert len(_FILES) == 50 and len(tofu) == 12 + 4 * 2 + 2 * (3 + 3 * 2) + 1
    for name, role, url in tofu:
        assert any(f.url == url and f.sha256 is None and f.role == role for f in bundles[name].files)
    for name, role, url, sha, _ in _FILES:
        assert any(f.url == url and f.sha256 == sha and f.role == role for f in bundles[name].files)
    for b in bundles.values():
        for c in b.components:
            assert bundles[c.name] == c, f"{b.name} names a component {c.name} the registry lacks"


def test_import_checks_sha_against_the_bundle(tmp_path, monkeypatch):
    fake = tmp_path / "hubert_base_ls960.pt"
    fake.write_bytes(b"not the real file")
    with pytest.raises(ChecksumError, match="matches no file"):
        hub.import_file(fake, "hubert-base-ls960")
    assert _cache_files() == []
    # pretend the registry expects exactly these bytes: then it lands in the cache
    sha = hashlib.sha256(b"not the real file").hexdigest()
    real = hub.get_bundle("hubert-base-ls960")
    patched = dataclasses.replace(real, files=(dataclasses.replace(real.files[0], sha256=sha),))
    monkeypatch.setattr(hub, "registry", lambda: {"hubert-base-ls960": patched})
    hub.import_file(fake, "hubert-base-ls960")
    assert patched.files[0].cached_path().read_bytes() == b"not the real file"


def test_import_new_name_registers_user_bundle(tmp_path):
    f = tmp_path / "my_km.bin"
    f.write_bytes(b"abc")
    with pytest.raises(TextlessError, match="--role"):
        hub.import_file(f, "my-km")
    b = hub.import_file(f, "my-km", role="quantizer")
    assert hub.get_bundle("my-km") == b and b.source == "user"
    assert b.fetch()["checkpoint"].read_bytes() == b"abc"


def test_unknown_model_suggests():
    with pytest.raises(ModelNotFoundError, match="did you mean hubert-base-ls960"):
        hub.get_bundle("hubert-base-ls96")


def _cli(*args, env_home):
    env = dict(os.environ, TEXTLESS_HOME=str(env_home))
    return subprocess.run([sys.executable, "-m", "textless", *args], capture_output=True, text=True, env=env)


def test_cli_models_list_shows_every_sha(tmp_path):
    r = _cli("models", "list", env_home=tmp_path)
    assert r.returncode == 0, r.stderr
    for _, _, url, sha, _ in _FILES:
        assert sha in r.stdout and url in r.stdout


@pytest.mark.parametrize(
    "args, pattern",
    [
        (("models", "info", "no-such-model"), "unknown model"),
        (("models", "import", "/no/such/file", "--as", "x"), "no such file"),
        (("models", "frobnicate"), "invalid choice"),
        (("models", "list", "--kind", "banana"), "invalid choice"),
        (("models", "download", "hubert-base-ls960"), "hubert_base_ls960.pt.*put it at"),
        (("models", "list", "--role", "banana"), "invalid choice"),
        (("models", "import", "/no/such/file", "--as", "../../../../tmp/escaped", "--role", "vocoder"),
         "invalid model name '../../../../tmp/escaped'"),
        (("models", "download", "../../../../tmp/escaped"), "invalid model name"),
    ],
)
def test_cli_user_errors_are_one_line_exit_2(tmp_path, args, pattern, monkeypatch):
    monkeypatch.setenv("TEXTLESS_OFFLINE", "1")
    r = _cli(*args, env_home=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("textless: error: "), r.stderr
    assert re.search(pattern, lines[0])


# --------------------------------------------------------------------------------------------
# Bundle names never leave the cache


@pytest.mark.parametrize(
    "name", ["../../../escaped", "a/b", "a\\b", "/abs", ".hidden", "..", "-opt", "", "x" * 129, "é"]
)
def test_bundle_names_with_separators_are_refused(tmp_path, name):
    f = tmp_path / "voc.safetensors"
    f.write_bytes(b"weights")
    with pytest.raises(TextlessError, match="invalid model name"):
        hub.import_file(f, name, role="vocoder")
    assert not (hub.textless_home() / "registry.json").exists()
    with pytest.raises(ModelNotFoundError, match="invalid model name"):
        hub.get_bundle(name)


def test_plain_names_with_dots_and_underscores_are_accepted(tmp_path):
    f = tmp_path / "voc.safetensors"
    f.write_bytes(b"weights")
    b = hub.import_file(f, "my_voc-v1.2", role="vocoder")
    path = b.fetch()["checkpoint"]
    assert path.parent == hub.cache_dir() / "user" / "my_voc-v1.2"
    assert path.read_bytes() == b"weights"


def test_escaping_name_in_a_hand_edited_registry_writes_nothing_outside(tmp_path):
    """registry.json written by an older textless (or by hand) with a name holding '..'."""
    f = tmp_path / "voc.safetensors"
    f.write_bytes(b"weights")
    name = "../../../escaped"  # cache is tmp_path/textless_home/hub: user/<name> -> tmp_path/escaped
    entry = {"role": "vocoder", "path": str(f), "sha256": hashlib.sha256(b"weights").hexdigest()}
    home = hub.textless_home()
    home.mkdir(parents=True)
    (home / "registry.json").write_text(json.dumps({name: entry}))
    with pytest.raises(TextlessError, match=r"registry\.json: invalid model name.*remove that entry"):
        hub.registry()
    # even a RemoteFile built by hand cannot point outside the cache
    rf = hub.RemoteFile("checkpoint", f.as_uri(), entry["sha256"], f"user/{name}/voc.safetensors")
    with pytest.raises(TextlessError, match="would leave the cache"):
        hub.fetch_file(rf)
    assert not (tmp_path / "escaped").exists()


# --------------------------------------------------------------------------------------------
# Files placed by hand in the cache are checked once


def _hand_placed(monkeypatch, data=PAYLOAD):
    """A registered file (sha256 of PAYLOAD) whose bytes ``data`` were put in the cache by hand,
    and a counter of the calls to ``textless.bundle.sha256_of`` (where the cache hashes)."""
    f = hub.RemoteFile("checkpoint", "https://example.invalid/model.pt",
                       hashlib.sha256(PAYLOAD).hexdigest(), "model.pt")
    path = hub.cache_dir() / "model.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    calls = []
    real = bundle_mod.sha256_of
    monkeypatch.setattr(bundle_mod, "sha256_of", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    monkeypatch.setenv("TEXTLESS_OFFLINE", "1")
    return f, path, calls


@pytest.mark.parametrize("data", [PAYLOAD[:-100], b"X" + PAYLOAD[1:]], ids=["truncated", "tampered"])
def test_hand_placed_file_with_wrong_sha_is_refused(monkeypatch, data):
    f, path, _ = _hand_placed(monkeypatch, data)
    actual = hashlib.sha256(data).hexdigest()
    with pytest.raises(ChecksumError) as e:
        hub.fetch_file(f)
    assert f.sha256 in str(e.value) and actual in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(ChecksumError):  # refused every time, not remembered as good
        hub.fetch_file(f)


def test_hand_placed_file_is_hashed_once_then_again_when_it_changes(monkeypatch):
    f, path, calls = _hand_placed(monkeypatch)
    assert hub.fetch_file(f) == path and len(calls) == 1
    assert hub.fetch_file(f) == path and len(calls) == 1  # unchanged: the record is trusted
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # same bytes, new mtime
    assert hub.fetch_file(f) == path and len(calls) == 2
    assert hub.fetch_file(f) == path and len(calls) == 2
    path.write_bytes(PAYLOAD + b"more")  # rewritten: new size and mtime, checked again
    with pytest.raises(ChecksumError):
        hub.fetch_file(f)
    assert len(calls) == 3


def test_downloaded_and_imported_files_are_not_hashed_again(server, monkeypatch, tmp_path):
    base, _ = server
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    f = hub.RemoteFile("checkpoint", f"{base}/model.pt", sha, "model.pt")
    hub.fetch_file(f)  # hashed while streaming
    imported = hub.RemoteFile("checkpoint", "https://example.invalid/x.pt", sha, "imported.pt")
    bundle = hub.Bundle("some-encoder", "encoder", "test", files=(imported,))
    monkeypatch.setattr(hub, "registry", lambda: {bundle.name: bundle})
    src = tmp_path / "x.pt"
    src.write_bytes(PAYLOAD)
    hub.import_file(src, bundle.name)  # hashed once to match it to the bundle
    calls = []
    monkeypatch.setattr(bundle_mod, "sha256_of", lambda p, *a, **k: calls.append(p))
    assert hub.fetch_file(f).read_bytes() == PAYLOAD
    assert hub.fetch_file(imported).read_bytes() == PAYLOAD
    assert calls == []


# --------------------------------------------------------------------------------------------
# One way to load: loaders are functions, kinds are role + format


def test_loaders_are_functions_and_kinds_have_one_spelling():
    from textless.checkpoint import split_kind
    from textless.components import NATIVE_LOADERS

    bundles = hub.registry()
    for b in bundles.values():
        assert b.role in hub.ROLES
        assert b.loader is None or callable(b.loader), f"{b.name}: loader {b.loader!r}"
        if b.role == "pipeline":
            assert b.loader is None and (b.components or [f.role for f in b.files] == ["pipeline"])
            if b.components:
                assert {c.role for c in b.components} >= {"encoder", "quantizer"}
        else:
            assert b.format and not b.components, b.name
    assert bundles["hubert-base-ls960-kmeans-100"].info()["loader"] == "textless.quantizers.kmeans.load_bundle"
    assert {b.role for b in bundles.values() if b.loader is not None} == {"encoder", "quantizer", "ulm", "vocoder", "tts"}
    assert all(b.loader is not None for b in bundles.values() if b.role != "pipeline")
    for kind, load in NATIVE_LOADERS.items():
        role, fmt = split_kind(kind)
        assert role in hub.COMPONENT_ROLES and fmt and callable(load), kind


def test_user_registry_written_with_kind_is_read_and_new_entries_say_role(tmp_path):
    f = tmp_path / "voc.safetensors"
    f.write_bytes(b"weights")
    home = hub.textless_home()
    home.mkdir(parents=True)
    old = {"old-voc": {"kind": "vocoder", "path": str(f), "sha256": hashlib.sha256(b"weights").hexdigest()}}
    (home / "registry.json").write_text(json.dumps(old))
    b = hub.get_bundle("old-voc")
    assert b.role == "vocoder" and b.loader is hub.USER_LOADERS["vocoder"] and b.source == "user"
    hub.import_file(f, "new-voc", role="vocoder")
    saved = json.loads((home / "registry.json").read_text())
    assert saved["new-voc"]["role"] == "vocoder" and "kind" not in saved["new-voc"]
    assert saved["old-voc"] == old["old-voc"]  # left as it was


def test_pipeline_bundle_is_composed_from_its_component_bundles(monkeypatch):
    import torch

    import textless
    from textless.encoders.spectral import SpectralEncoder, mfcc_config
    from textless.pipeline import Pipeline, load_pipeline
    from textless.quantizers.kmeans import KMeansQuantizer

    enc = SpectralEncoder(mfcc_config())
    km = KMeansQuantizer(torch.randn(7, enc.dim).numpy(), None, None)
    calls = []
    encoder = hub.Bundle("tiny-enc", "encoder", "t", format="spectral",
                         loader=lambda b, files, device: calls.append((b.name, device)) or enc)
    quantizer = hub.Bundle("tiny-km", "quantizer", "t", format="kmeans",
                           loader=lambda b, files, device: calls.append((b.name, device)) or km)
    pipe_b = hub.Bundle("tiny-pipe", "pipeline", "t", components=(encoder, quantizer), layer=3)
    monkeypatch.setattr(hub, "registry", lambda: {b.name: b for b in (encoder, quantizer, pipe_b)})
    pipe = load_pipeline("tiny-pipe")
    assert isinstance(pipe, Pipeline) and pipe.encoder is enc and pipe.quantizer is km
    assert pipe.layer == 3 and pipe.name == "tiny-pipe" and calls == [("tiny-enc", "cpu"), ("tiny-km", "cpu")]
    assert textless.load("tiny-pipe").quantizer is km and textless.load("tiny-km") is km
    with pytest.raises(TextlessError, match="is a pipeline: load it with textless.load_pipeline"):
        pipe_b.get_model()
    with pytest.raises(TextlessError, match="tiny-km is a bundle of role quantizer, not a pipeline"):
        load_pipeline("tiny-km")


def test_cli_models_list_by_role_and_its_older_spelling(tmp_path):
    by_role = _cli("models", "list", "--role", "pipeline", env_home=tmp_path)
    by_kind = _cli("models", "list", "--kind", "pipeline", env_home=tmp_path)
    assert by_role.returncode == 0, by_role.stderr
    assert by_role.stdout == by_kind.stdout
    heads = [ln for ln in by_role.stdout.splitlines() if not ln.startswith(" ")]
    pipelines = sorted(b.name for b in hub.registry().values() if b.role == "pipeline")
    assert sorted(ln.split()[0] for ln in heads) == pipelines and len(pipelines) == 48  # 47 official + default
    assert all("[pipeline" in ln for ln in heads)
    info = json.loads(_cli("models", "info", "hubert-base-ls960", env_home=tmp_path).stdout)
    assert (info["role"], info["format"]) == ("encoder", "hubert")
    assert info["loader"] == "textless.encoders.fairseq_import.load_bundle"
