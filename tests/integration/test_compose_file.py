"""deploy/docker-compose.yml configures the registry with settings that exist and validate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agentvault_registry.config.loader import load_configuration

yaml = pytest.importorskip("yaml")

DEPLOY = Path(__file__).parents[2] / "deploy"
#: ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}`` as compose interpolates them.
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")
OPERATOR_ENV = {
    "POSTGRES_PASSWORD": "pg-password",
    "MINIO_ROOT_PASSWORD": "minio-password",
    "PUBLIC_URL": "https://registry.example.org",
}


def interpolate(value: str) -> str:
    def replace(match: re.Match) -> str:
        name, operator, default = match.groups()
        if name in OPERATOR_ENV:
            return OPERATOR_ENV[name]
        assert operator == "-", f"${{{name}}} is required and not set by the test"
        return default

    return VARIABLE.sub(replace, value).replace("$$", "$")


@pytest.fixture
def compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def service_env(compose, name: str, secrets_dir: Path) -> dict[str, str]:
    env = {
        key: interpolate(str(value))
        for key, value in compose["services"][name]["environment"].items()
    }
    # Docker mounts each secret at /run/secrets/<name>; here they are files in secrets_dir.
    for secret in compose["services"][name]["secrets"]:
        (secrets_dir / secret).write_text(f"{secret}-" + "s" * 40)
    return {key: value.replace("/run/secrets/", f"{secrets_dir}/") for key, value in env.items()}


@pytest.mark.parametrize("service", ["registry", "migrate"])
def test_the_registry_settings_in_the_compose_file_validate(compose, tmp_path, service):
    env = service_env(compose, service, tmp_path)
    settings, _ = load_configuration(None, environ={**env, "AVREG_DATA_DIR": str(tmp_path)})
    assert settings.production
    assert settings.storage.records.backend == "postgresql"
    assert settings.storage.cache.backend == "redis"
    assert settings.storage.blobs.backend == "s3"
    assert settings.storage.blobs.options["endpoint_url"] == "http://minio:9000"
    assert settings.security.jwt_secret.reveal() == "jwt_secret-" + "s" * 40


def test_workers_leave_migrations_to_the_one_shot_service(compose):
    services = compose["services"]
    assert services["registry"]["environment"]["AVREG_STORAGE__MIGRATE_ON_START"] == "false"
    assert services["migrate"]["command"] == ["migrate"]
    needs = services["registry"]["depends_on"]
    assert needs["migrate"]["condition"] == "service_completed_successfully"
    assert needs["create-bucket"]["condition"] == "service_completed_successfully"


def test_the_registry_runs_under_gunicorn_with_two_workers(compose):
    registry = compose["services"]["registry"]
    assert registry["entrypoint"][0] == "gunicorn"
    assert int(registry["environment"]["GUNICORN_WORKERS"]) >= 2
    dockerfile = (DEPLOY.parent / "Dockerfile").read_text()
    assert f"COPY deploy/gunicorn.conf.py {registry['entrypoint'][-1]}" in dockerfile


def test_no_secret_is_written_inline(compose):
    env = compose["services"]["registry"]["environment"]
    for name in ("AVREG_SECURITY__JWT_SECRET", "AVREG_PLUGINS__FEDERATION__TOKEN_KEY"):
        assert set(json.loads(env[name])) == {"file"}
    assert "${POSTGRES_PASSWORD" in env["AVREG_STORAGE__RECORDS__DSN"]
    assert env["AVREG_STORAGE__BLOBS__SECRET_ACCESS_KEY"].startswith("${MINIO_ROOT_PASSWORD")
