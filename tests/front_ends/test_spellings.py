"""One name per concept on the command line, the old spellings kept as aliases (issue 22):
`cluster --json` (was -o/--output: `similar -o` is an M3U8 file), `--dask-scheduler` (the
config key's name; was --dask), `beet clusterd -v/--verbose` (as `clusterd` spells it; was
--debug). The parsers are the plugin's own; the end-to-end tests still use the old spellings."""

from __future__ import annotations

import pytest

from beetsplug.cluster.plugin import ClusterPlugin


@pytest.fixture(scope="module")
def parsers():
    # The commands without a plugin instance: __init__ would register listeners for the
    # whole process, and the parsers need none of it.
    plugin = object.__new__(ClusterPlugin)
    return {c.name: c.parser for c in ClusterPlugin.commands(plugin)}


@pytest.mark.parametrize("flag", ["--json", "-o", "--output"])
def test_json_export_by_its_name_and_its_old_spelling(parsers, flag):
    opts, _ = parsers["cluster"].parse_args([flag, "x.json"])
    assert opts.json == "x.json"


@pytest.mark.parametrize("flag", ["--dask-scheduler", "--dask"])
def test_dask_scheduler_as_the_config_key_spells_it(parsers, flag):
    opts, _ = parsers["cluster"].parse_args([flag, "tcp://nas:8786"])
    assert opts.dask_scheduler == "tcp://nas:8786"


@pytest.mark.parametrize("flag", ["-v", "--verbose", "--debug"])
def test_beet_clusterd_verbose_as_clusterd_spells_it(parsers, flag):
    assert parsers["clusterd"].parse_args([flag])[0].verbose is True
    assert parsers["clusterd"].parse_args([])[0].verbose is False


def test_similar_keeps_its_own_o(parsers):
    assert parsers["similar"].parse_args(["-o", "a.m3u8"])[0].output == "a.m3u8"
