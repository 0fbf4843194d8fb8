"""gunicorn configuration for the Closer Together webhook, for running gunicorn yourself:

    gunicorn -c deploy/gunicorn.conf.py 'skill.doors.webhook:create_app()'

The settings live in skill/doors/server.py, which `closer serve` uses as well, so both
ways of serving behave the same: gthread workers (2 x cores + 1, at most 8), one thread each,
a 7 s worker timeout (Alexa waits 8 s), graceful restarts on SIGHUP that give in-flight
requests 10 s, workers recycled after 100,000 +/- 10,000 requests, gunicorn's lines as JSON, no
access log, and Prometheus multiprocess metrics for GET /metrics.

Environment: CLOSER_BIND (default 127.0.0.1:8080), CLOSER_WORKERS, CLOSER_THREADS,
PROMETHEUS_MULTIPROC_DIR (default: a fresh temporary directory; emptied at start), and the
skill's own settings (README: Configuration). Verification of Amazon's signature is always
on here.
"""

from skill.config import Config
from skill.doors.server import settings

_config = Config.from_env()
globals().update(settings(_config.bind, _config.workers, _config.threads))
