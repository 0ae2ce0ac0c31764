"""gunicorn settings for production: `.venv/bin/gunicorn run:app` (reads this file).

Run one `flask --app run crm scheduler` beside the workers, and leave CRM_SCHEDULER unset here:
the database lease keeps each job to one runner anyway.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# The usual 2 × cores + 1 for I/O-bound request handlers.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Threaded workers: a thread waiting on PostgreSQL leaves the worker to another request, and idle
# keep-alive connections wait in the poller instead of holding a worker. Measured with 50 users and
# think time on 2 CPUs (bench/bench_load.py, issue 7.9): 5 × 2 gthread served 32 requests/s at p95
# 0.78 s; 5 sync workers 23 requests/s at p95 3.4 s (a slow page holds its worker; no keep-alive).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 60
graceful_timeout = 30  # finish in-flight requests on SIGTERM before exiting
keepalive = 5
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
