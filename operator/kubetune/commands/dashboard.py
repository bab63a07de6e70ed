"""``kubetune dashboard``: serve the experiments of a directory or, with ``--cluster``, of
a namespace as a live web page (optuna-dashboard; see kubetune.dashboard).

It reads through the same `ExperimentSource` as ``kubetune status`` (sources.py), and a
trial's log through ``kubetune logs``'s reader, so it needs nothing the reading commands
do not: read access to TuningExperiments, TuningTrials and the trials' pods and logs.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable

from kubetune.commands.sources import open_source
from kubetune.commands.trial_logs import trial_log

MISSING_EXTRA = (
    "kubetune dashboard needs the dashboard extra: pip install 'kubetune[dashboard]' ({})"
)


def dashboard(args: argparse.Namespace) -> int:
    try:
        from kubetune.dashboard.mirror import Mirror, keep_current
        from kubetune.dashboard.server import address, application, serve
    except ImportError as missing:
        raise ValueError(MISSING_EXTRA.format(missing)) from None
    mirror, stop = Mirror(open_source(args)), threading.Event()
    keep_current(mirror, args.refresh, stop)
    server = serve(application(mirror.storage, log_reader(args)), args.host, args.port)
    print(f"kubetune dashboard: {address(server)} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        return 0
    finally:
        stop.set()
        server.server_close()
    return 0


def log_reader(args: argparse.Namespace) -> Callable[[str], str]:
    """A trial's log, as ``kubetune logs TRIAL`` with the same --dir or --cluster reads it."""
    return lambda trial: trial_log(argparse.Namespace(**{**vars(args), "trial": trial}))
