"""A `distributed.Client` to the configured scheduler, or one clear line why there is none."""

from __future__ import annotations

from ..config import DaskTarget
from ..errors import DaskError

CONNECT_TIMEOUT_S = 5  # a wrong address fails in seconds, not after Dask's default 30 s
WORKERS_TIMEOUT_S = 10  # a scheduler with no worker would hold the run forever


def connect(target: DaskTarget):
    """A client to the scheduler with at least one worker; DaskError otherwise."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise DaskError("--dask needs the dask extra: pip install 'beets-cluster[dask]' "
                        f"({exc})") from exc
    try:
        client = Client(target.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:  # refused, timed out, bad scheme
        raise DaskError(f"the Dask scheduler {target.address} cannot be reached "
                        f"({_first_line(exc)})") from exc
    try:
        client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise DaskError(f"the Dask scheduler {target.address} has no worker (waited "
                        f"{WORKERS_TIMEOUT_S} s; start one with `dask worker "
                        f"{target.address}`)") from exc
    return client


def worker_threads(client) -> int:
    """How many tasks the cluster runs at once now (workers may come and go)."""
    return sum(w["nthreads"] for w in _workers(client))


def gpu_slots(client) -> int:
    """How many GPU tasks the workers started with `--resources GPU=n` run at once now."""
    return sum(min(w["nthreads"], int(w.get("resources", {}).get("GPU", 0)))
               for w in _workers(client))


def _workers(client) -> list[dict]:
    try:  # newer distributed lists only 5 workers unless asked for all
        return list(client.scheduler_info(n_workers=-1)["workers"].values())
    except TypeError:  # older: no such keyword, every worker listed
        return list(client.scheduler_info()["workers"].values())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
