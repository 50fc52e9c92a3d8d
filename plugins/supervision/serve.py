"""`supervision serve`: the review application and the Airflow UI, on 127.0.0.1."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def serve(review_port: int = 8000, airflow_port: int = 8080, airflow: bool = True, host: str = "127.0.0.1") -> int:
    from supervision.config import settings
    from supervision.warehouse import EmbeddedServer, bootstrap

    if airflow:
        from supervision.pipeline import prepare_environment

        prepare_environment()
    else:  # the review application alone needs only the warehouse
        if not settings().external_warehouse:
            EmbeddedServer(settings()).start()
        bootstrap(settings().warehouse_url())
    procs: list[subprocess.Popen] = []
    # SIGTERM (systemd, `timeout`, docker stop) must run the clean-up below too, or the children,
    # each in its own process group, would outlive us
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           # the task runners reach the execution API on the port the API server was given
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{airflow_port}/execution/"}
    try:
        if airflow:
            # no log servers: they bind every interface (ports 8793 and 8794, no bind setting), and
            # the API server reads the task and trigger logs from the shared log folder here
            for args in (["api-server", "-H", host, "-p", str(airflow_port)], ["scheduler", "--skip-serve-logs"],
                         ["dag-processor"], ["triggerer", "--skip-serve-logs"]):
                procs.append(subprocess.Popen([str(bin_dir / "airflow"), *args], env=env,
                                              start_new_session=True))
            pw = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
            print(f"Airflow UI: http://127.0.0.1:{airflow_port}  (user admin; password in {pw} once started)")
        docs = settings().gx_dir / "data_docs"
        print(f"Review application: http://{host}:{review_port}  (GX Data Docs at /data-docs from {docs})")
        procs.append(subprocess.Popen([sys.executable, "-c",
                                       f"from supervision.review.app import serve_review; "
                                       f"serve_review(host={host!r}, port={review_port})"],
                                      env=env, start_new_session=True))
        while all(p.poll() is None for p in procs):
            time.sleep(1)
        return next((p.returncode for p in procs if p.poll() is not None), 0) or 0
    except (KeyboardInterrupt, SystemExit):
        return 0
    finally:
        # LocalExecutor workers ignore SIGTERM: stop every child by its process group
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
