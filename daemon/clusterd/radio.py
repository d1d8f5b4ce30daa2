"""The daemon's radio (`radio: yes`): `beet radio`'s loop in a thread of its own, with the
settings and MPD of the beets config, until the daemon stops. MPD may start after the daemon
or restart under it: an unreachable or lost MPD is logged once and tried again."""

from __future__ import annotations

import threading

from beetsplug.cluster import log as cluster_log

log = cluster_log.get(__name__)
RETRY_SECONDS = 10.0


def start(lib, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=_run, args=(lib, stop), name="clusterd-radio", daemon=True)
    thread.start()
    return thread


def stop(thread: threading.Thread, timeout: float = 10.0) -> None:
    """End the radio (its stop event is set): wake it from MPD's idle, then join it."""
    from beetsplug.cluster.mpd_command import wake

    wake()
    thread.join(timeout)
    if thread.is_alive():
        log.error("radio: did not stop within {:.0f} s", timeout)


def _run(lib, stop: threading.Event) -> None:
    from beetsplug.cluster.beets_config import settings_from_beets
    from beetsplug.cluster.errors import ClusterError
    from beetsplug.cluster.mpd_command import connect, run_radio
    from clusterd.beets_lookup import open_library

    told = None
    while not stop.is_set():
        try:
            lib = lib or open_library()
            settings = settings_from_beets(who="clusterd")
            player = connect()
            log.info("radio: keeping {} songs queued ahead in MPD", settings.radio_ahead)
            told = None
            run_radio(player, lib, settings, settings.radio_ahead, stop=stop)
        except Exception as exc:  # noqa: BLE001 - the thread's edge: the daemon goes on
            line = str(exc) if isinstance(exc, ClusterError) else repr(exc)
            if line != told:  # once, not every RETRY_SECONDS
                log.error("radio: {}; trying again every {:.0f} s", line, RETRY_SECONDS)
                told = line
        stop.wait(RETRY_SECONDS)
