"""`beet clusterd`: the watcher daemon in the foreground, on the config and library beets opened."""

from __future__ import annotations

from beets import ui


def clusterd_command() -> ui.Subcommand:
    cmd = ui.Subcommand("clusterd", help="watch the library; keep the cluster playlists current")
    cmd.parser.add_option("--poll", action="store_true", default=None,
                          help="poll for changes (network shares, where inotify sees nothing)")
    # -v/--verbose, as `clusterd` spells it; --debug, the old spelling, stays
    cmd.parser.add_option("-v", "--verbose", "--debug", dest="verbose", action="store_true",
                          default=False, help="debug logging (old spelling: --debug)")
    cmd.func = _run
    return cmd


def _run(lib, opts, args) -> None:
    if args:
        raise ui.UserError("clusterd takes no query: it watches the whole library folder")
    try:  # the daemon ships in the same distribution, as the top-level package `clusterd`
        from clusterd.__main__ import main
        from clusterd.handler import build
    except ImportError as exc:
        raise ui.UserError(f"clusterd is not installed: {exc}") from exc
    argv = ["--poll"] * bool(opts.poll) + ["-v"] * opts.verbose
    status = main(argv, factory=lambda options: build(options, lib), config_read=True)
    if status:
        raise ui.UserError(f"clusterd stopped with status {status} (see the log above)")
