"""The production web server's settings: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be changed from the environment without editing this file:

* GUNICORN_BIND: where to listen (default 0.0.0.0:8000);
* WEB_CONCURRENCY: worker processes (default 2 × cores + 1, gunicorn's own advice);
* GUNICORN_THREADS: threads per worker (default 1: sync workers);
* GUNICORN_TIMEOUT: seconds a request may take before its worker is restarted (default 60;
  a committee meeting's letters are made by the background worker, never in a request).

Static files are served by the application itself (WhiteNoise), so one gunicorn is a
complete site behind any reverse proxy.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "0")) or multiprocessing.cpu_count() * 2 + 1
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter, so they do not all restart at
# once): a slow leak in a library cannot grow without end.
max_requests = 2000
max_requests_jitter = 200
# The application is loaded once, before the workers fork: a worker starts in milliseconds and
# a broken configuration stops the server at start, not in every worker.
preload_app = True
# One line per request on stdout, beside the application's JSON lines on stderr.
accesslog = "-"
errorlog = "-"
# The request id (config/logging.py) ties the line to the application's JSON lines.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s" rid=%({x-request-id}o)s'
# gunicorn's control socket (gunicornc) is one path per user by default: two servers on one
# machine would take each other's. Off unless a path is given.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET")
