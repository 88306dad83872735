"""Real ``agentvault-registry serve`` processes for tests that need more than one app."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from support import free_port


@dataclass
class RegistryProcess:
    port: int
    process: subprocess.Popen
    log_path: Path
    log: IO[str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)
        self.log.close()


def production_env(dsn: str, redis_url: str, key_prefix: str, workdir: Path) -> dict[str, str]:
    """A production registry on one PostgreSQL and one Redis, blobs under ``workdir``."""
    return {
        "AVREG_MODE": "production",
        "AVREG_SERVER__PUBLIC_URL": "https://registry.example.org",
        "AVREG_SECURITY__JWT_SECRET": "p" * 48,
        "AVREG_PLUGINS__FEDERATION__TOKEN_KEY": "f" * 48,
        "AVREG_STORAGE__RECORDS__BACKEND": "postgresql",
        "AVREG_STORAGE__RECORDS__DSN": dsn,
        "AVREG_STORAGE__CACHE__BACKEND": "redis",
        "AVREG_STORAGE__CACHE__URL": redis_url,
        "AVREG_STORAGE__CACHE__KEY_PREFIX": key_prefix,
        "AVREG_STORAGE__BLOBS__ROOT": str(workdir / "blobs"),
    }


def start_registry(workdir: Path, name: str, env: Mapping[str, str]) -> RegistryProcess:
    """Start ``serve`` on a free port with ``env`` (AVREG_* settings) and nothing inherited."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AVREG_")}
    environment.update({"AVREG_DATA_DIR": str(workdir / name), **env})
    port = free_port()
    log_path = workdir / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "agentvault_registry", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return RegistryProcess(port, process, log_path, log)


def _get_json(url: str) -> tuple[int, dict]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


async def wait_ready(registry: RegistryProcess) -> tuple[int, dict]:
    """``/ready``'s status and body once the process answers; fails if it exits first."""
    for _ in range(150):
        if registry.process.poll() is not None:
            raise AssertionError(
                f"registry on {registry.port} exited: {registry.log_path.read_text()}"
            )
        try:
            return await asyncio.to_thread(_get_json, f"{registry.url}/ready")
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"registry on {registry.port} never became ready")


@asynccontextmanager
async def running_registries(workdir: Path, envs: list[Mapping[str, str]]):
    """Start one registry per env, wait until every one is ready, stop them all after."""
    registries = [start_registry(workdir, f"worker{i}", env) for i, env in enumerate(envs)]
    try:
        for registry in registries:
            status, _ = await wait_ready(registry)
            assert status == 200
        yield registries
    finally:
        for registry in registries:
            registry.stop()
