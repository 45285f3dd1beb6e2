"""Settings for benchmarks/bench_survey_submit.py: csas's own settings, one extra URL.

Everything (middleware, sessions, database options, environment variables) is exactly what
csas runs with; only the URLconf changes, to add the bare baseline view of bench_urls.py.
"""

from csas.config.settings import *  # noqa: F403  (the benchmark must run csas as configured)

ROOT_URLCONF = "benchmarks.bench_urls"
