# The exchange-sync Airflow image: the official Airflow image plus this project's pinned dependencies and
# the exchange_sync package (the `exchange-sync` command, the simulator and the "ccxt" connection type).
# docker-compose.yaml builds it (`docker compose build`) and mounts dags/ and plugins/ into it.
#
# Extends the official image the way https://airflow.apache.org/docs/docker-stack/build.html recommends.
# Keep the tag in step with the apache-airflow pin in requirements.txt and with the Python version
# constraints.txt was frozen for (tests/test_docker_compose.py checks both).
FROM apache/airflow:3.3.2-python3.11

# The simulator keeps its state in a volume mounted here; a new volume takes this directory's owner and
# mode, so make it writable by the airflow user and by group 0 (compose runs the image as AIRFLOW_UID:0).
USER root
RUN install -d -o airflow -g 0 -m 0775 /opt/airflow/simulator /opt/exchange-sync
USER airflow

WORKDIR /opt/exchange-sync
# 1. Third-party dependencies, in a layer of their own that is rebuilt only when the pins change.
#    Naming apache-airflow==${AIRFLOW_VERSION} (the image's version) keeps pip from replacing Airflow.
COPY --chown=airflow:0 requirements.txt constraints.txt ./
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r requirements.txt -c constraints.txt

# 2. The project itself (its dependencies are all installed above). setuptools builds it in this
#    directory, hence --chown; with the setuptools pinned in requirements.txt, hence no build isolation.
COPY --chown=airflow:0 pyproject.toml ./
COPY --chown=airflow:0 include/ ./include/
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

WORKDIR /opt/airflow
