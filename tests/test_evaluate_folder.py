from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "evaluate_folder.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("evaluate_folder", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_prints_the_table_for_a_labelled_folder(tmp_path, capsys):
    X, y = make_blobs(n_samples=90, centers=[[0] * 5, [8] * 5, [0, 8, 0, 8, 0]], random_state=6)
    genres = np.array(["rock", "pop", "jazz"])[y]
    files = [f"{g}/{g}_{i:03d}.mp3" for i, g in enumerate(genres)]
    lines = ["file,genre", *(f"{f},{g}" for f, g in zip(files, genres)), "extra/none.mp3,pop"]
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    # Absolute paths for some rows, relative for others; one vector has no label.
    paths = [str(tmp_path / f) if i % 2 else f for i, f in enumerate(files)] + ["x/unknown.mp3"]
    vectors = np.vstack([X, X[:1]])
    np.savez(tmp_path / "v.npz", paths=np.array(paths), vectors=vectors)

    args = ["--folder", str(tmp_path), "--vectors", str(tmp_path / "v.npz"), "-k", "3"]
    rc = _load_script().main([*args, "-k", "auto", "--plot", str(tmp_path / "map.png")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "1 labelled files have no vector" in out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert table["measure"] == ["k=3", "auto", "(k=3)"]
    assert table["nmi"] == ["1.000", "1.000"] and table["purity"] == ["1.000", "1.000"]
    assert table["unlabelled"] == ["1", "1"]
    assert (tmp_path / "map.png").stat().st_size > 0 and (tmp_path / "map.html").exists()
