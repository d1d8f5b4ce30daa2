"""The one table of options: README's configuration reference shows exactly it; both front ends
read it; a bad value is one clear line."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from beetsplug.cluster.config import DEFAULTS, Settings, settings_from

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_reference() -> dict:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    return yaml.safe_load(block)["cluster"]


def test_readme_reference_is_the_defaults_table():
    assert readme_reference() == DEFAULTS


def test_settings_fields_carry_the_options_names():
    # A field that holds an option is spelled as the option; these hold what is no option
    # (set by the front ends) or what two options make together (dask: dask_scheduler and
    # dask_path_map).
    not_options = {"cache_dir", "dask", "library_root", "write_tags"}
    assert {f.name for f in fields(Settings)} - not_options <= set(DEFAULTS)


def test_settings_defaults_come_from_the_table():
    s = settings_from(DEFAULTS, library_db=Path("/lib/library.db"),
                      library_root=Path("/music"))
    plain = Settings()
    # Every field, but those that follow where the library lives or the machine it runs on
    # (checked below, or by their own tests); a new field is compared without a test edit.
    placed = {"store", "playlist_dir", "library_root", "similar_dir", "cache_dir",
              "workers", "dask", "write_tags"}
    compared = [f.name for f in fields(Settings) if f.name not in placed]
    assert {"clusters", "method", "grouping", "import_new"} <= set(compared)
    for field in compared:
        assert getattr(s, field) == getattr(plain, field), field
    assert s.auto_range == plain.auto_range
    assert s.store == Path("/lib/cluster.db")
    assert s.playlist_dir == Path("/music/Playlists")


def test_daemon_options_carry_the_options_names_and_defaults():
    from clusterd.service import DaemonOptions

    o = DaemonOptions(roots=())
    # every field but the watched folders and the settle cap (not options) is an option's key
    options = [f.name for f in fields(DaemonOptions) if f.name not in ("roots", "settle_max")]
    assert {"poll", "quiet_seconds", "max_wait_seconds", "recluster_after"} <= set(options)
    for name in options:
        assert name in DEFAULTS, name
        assert getattr(o, name) == DEFAULTS[name], name


@pytest.mark.parametrize("key, value, words", [
    ("clusters", "many", "invalid literal"),
    ("auto_range", "12", "auto_range"),
    ("method", "spectral", "method must be one of"),
    ("backend", "wav2vec", "unknown backend"),
    ("pca_variance", 2, "pca_variance"),
    ("playlist_template", "{nope}", "playlist_template"),
])
def test_a_bad_value_is_one_clear_line(key, value, words):
    with pytest.raises(ValueError, match=words):
        settings_from({**DEFAULTS, key: value}, library_db=Path("/l.db"),
                      library_root=Path("/m"))
