from textless.cli import main
from textless.data.manifest import read_manifest


def test_cli_synth_then_align(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["data", "synth", "--generate", "2", "--voices", "flite:slt", "--out", str(out),
                 "--workers", "1"]) == 0
    _, entries = read_manifest(out / "manifest.tsv")
    assert len(entries) == 2
    assert main(["data", "align", "--manifest", str(out / "manifest.tsv")]) == 0
    assert (out / "align" / "c.item").is_file()
    assert "2 utterances aligned" in capsys.readouterr().out


def test_cli_user_errors_are_one_line(tmp_path, capsys):
    assert main(["data", "synth", "--generate", "2", "--voices", "flite:nope",
                 "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("textless: error: voice 'flite:nope'") and err.count("\n") == 1
    assert main(["data", "align", "--manifest", str(tmp_path / "none.tsv")]) == 2
    assert main(["data", "synth", "--text", str(tmp_path / "none.txt"), "--out", str(tmp_path)]) == 2
