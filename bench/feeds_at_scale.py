"""Gathering 50 feeds when some of them misbehave. Prints one JSON object.

The test suite's HTTP server (tests/feed_server.py, on 127.0.0.1) serves 50 feeds: 40 healthy ones
(the saved example feeds, each after a simulated network latency), 5 that drip their body a byte
every 50 ms and 5 that never answer. They are gathered with fetch_all under the production limits
(5 s connect, 10 s read, 30 s per feed, 60 s for all), three ways, side by side in one run:
  - sequential with no overall deadline: how feeds were gathered before issue 9
  - one worker with the 60 s deadline
  - eight workers with the 60 s deadline (the default)
Usage: python bench/feeds_at_scale.py [--latency 0.1] [--skip-sequential]"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # tests/feed_server.py

from pipeline.sources.feeds import FeedLimits  # noqa: E402
from pipeline.sources.fetch import FeedCache, FeedJob, fetch_all  # noqa: E402
from tests.feed_server import FeedServer  # noqa: E402

FEEDS, DRIPPING, HANGING = 50, 5, 5


def serve(server: FeedServer, latency_s: float) -> list[FeedJob]:
    """Bad feeds spread through the list, as in a real brief: every fifth is dripping or hanging."""
    saved = sorted((REPO / "briefs" / "feeds").glob("*.xml"))
    jobs = []
    for n in range(FEEDS):
        body = saved[n % len(saved)].read_bytes()
        mode = ("drip" if n // 5 % 2 == 0 else "hang") if n % 5 == 4 else "normal"
        url = server.add(f"/feed{n}.xml", body, mode=mode, delay_s=latency_s if mode == "normal" else 0.0)
        jobs.append(FeedJob(url, f"{mode} {n}", allow_private=True))  # the server is on 127.0.0.1
    assert sum(j.name.startswith("drip") for j in jobs) == DRIPPING and sum(j.name.startswith("hang") for j in jobs) == HANGING
    return jobs


def hermetic_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment between us and 127.0.0.1
    return session


def gather(jobs: list[FeedJob], limits: FeedLimits) -> dict:
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.monotonic()
        results = fetch_all(jobs, FeedCache(Path(cache_dir)), limits, False, new_session=hermetic_session)
        seconds = time.monotonic() - started
    healthy = [r for r in results if r.name.startswith("normal")]
    return {"workers": limits.workers, "all_feeds_timeout_s": limits.all_feeds_timeout_s, "seconds": round(seconds, 2),
            "statuses": dict(Counter(r.status for r in results)),
            "healthy_feeds_with_items": sum(bool(r.items) for r in healthy), "healthy_feeds": len(healthy),
            "in_brief_order": [r.name for r in results] == [j.name for j in jobs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each healthy feed answers")
    parser.add_argument("--skip-sequential", action="store_true", help="leave out the ~200 s run without a deadline")
    args = parser.parse_args()
    defaults = FeedLimits()
    runs = [("sequential_no_deadline", FeedLimits(workers=1, all_feeds_timeout_s=10**6)),
            ("one_worker_60s_deadline", FeedLimits(workers=1)),
            ("eight_workers_60s_deadline", FeedLimits(workers=8))]
    if args.skip_sequential:
        runs = runs[1:]
    server = FeedServer().start()
    try:
        jobs = serve(server, args.latency)
        report = {"feeds": FEEDS, "dripping": DRIPPING, "hanging": HANGING, "latency_s": args.latency,
                  "limits": {"connect_timeout_s": defaults.connect_timeout_s, "read_timeout_s": defaults.read_timeout_s,
                             "total_timeout_s": defaults.total_timeout_s},
                  "runs": {name: gather(jobs, limits) for name, limits in runs}}
    finally:
        server.stop()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
