"""Configuration: precedence, secret references, plugin sections, and clear problems."""

from __future__ import annotations

import pytest
from marshmallow import RAISE, Schema, fields, validate

from agentvault_registry import hookimpl
from agentvault_registry.config.dump import settings_as_dict
from agentvault_registry.config.loader import load_configuration
from agentvault_registry.config.secrets import MASK
from agentvault_registry.core.errors import ConfigError

SECRET = "s" * 40


def load(tmp_path, toml: str | None = None, environ=None, overrides=None, plugins=()):
    config_file = None
    if toml is not None:
        config_file = tmp_path / "registry.toml"
        config_file.write_text(toml)
    return load_configuration(
        config_file,
        environ=environ or {},
        overrides=overrides,
        extra_plugins=plugins,
        load_entry_points=False,
    )


def problems(tmp_path, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, **kwargs)
    return caught.value.problems


DEV = {"mode": "development"}


def test_defaults_are_the_embedded_setup(tmp_path):
    settings, _ = load(tmp_path, overrides=DEV)
    assert settings.storage.records.backend == "sqlite"
    assert settings.storage.cache.backend == "memory"
    assert settings.storage.blobs.backend == "filesystem"
    assert settings.server.port == 8080


def test_the_default_mode_is_production(tmp_path):
    settings, _ = load(
        tmp_path,
        overrides={
            "security": {"jwt_secret": SECRET},
            "storage": {"allow_embedded": True},
            "server": {"public_url": "https://registry.example.org"},
        },
    )
    assert settings.production


def test_file_beats_defaults_env_beats_file_flags_beat_env(tmp_path):
    toml = '[server]\nport = 9000\nhost = "0.0.0.0"\nmax_body_size = 4096\n'
    environ = {"AVREG_SERVER__PORT": "9100", "AVREG_SERVER__HOST": "127.0.0.2"}
    settings, _ = load(tmp_path, toml, environ, overrides={**DEV, "server": {"port": 9200}})
    assert settings.server.max_body_size == 4096
    assert settings.server.host == "127.0.0.2"
    assert settings.server.port == 9200
    assert settings.sources["server.port"] == "command line"
    assert settings.sources["server.host"] == "env AVREG_SERVER__HOST"


def test_env_lists_are_json(tmp_path):
    settings, _ = load(tmp_path, environ={"AVREG_PLUGINS__DISABLED": '["webui"]'}, overrides=DEV)
    assert settings.disabled_plugins == ("webui",)


def test_secret_from_env_reference(tmp_path):
    toml = '[security]\njwt_secret = { env = "MY_SECRET" }\n'
    settings, _ = load(tmp_path, toml, {"MY_SECRET": SECRET}, overrides=DEV)
    assert settings.security.jwt_secret.reveal() == SECRET


def test_secret_from_file_reference(tmp_path):
    secret_file = tmp_path / "jwt"
    secret_file.write_text(SECRET + "\n")
    toml = f'[security]\njwt_secret = {{ file = "{secret_file}" }}\n'
    settings, _ = load(tmp_path, toml, overrides=DEV)
    assert settings.security.jwt_secret.reveal() == SECRET


def test_missing_secret_env_is_a_problem(tmp_path):
    toml = '[security]\njwt_secret = { env = "NOT_SET_ANYWHERE" }\n'
    assert problems(tmp_path, toml=toml, overrides=DEV) == [
        f"security.jwt_secret (from file {tmp_path / 'registry.toml'}): "
        "environment variable 'NOT_SET_ANYWHERE' is not set."
    ]


def test_secrets_are_masked_when_dumped(tmp_path):
    settings, _ = load(tmp_path, environ={"AVREG_SECURITY__JWT_SECRET": SECRET}, overrides=DEV)
    dumped = settings_as_dict(settings)
    assert dumped["security"]["jwt_secret"] == MASK
    assert SECRET not in repr(settings)


def test_malformed_toml_is_one_line(tmp_path):
    [line] = problems(tmp_path, toml="[server\nport = 1\n")
    assert line.startswith(f"config file {tmp_path / 'registry.toml'}: not valid TOML")


def test_a_missing_config_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_configuration(tmp_path / "nope.toml", environ={})
    assert caught.value.problems == [f"config file {tmp_path / 'nope.toml'}: no such file"]


def test_wrong_type_in_env_names_the_variable(tmp_path):
    assert problems(tmp_path, environ={"AVREG_SERVER__PORT": "eighty"}, overrides=DEV) == [
        "server.port (from env AVREG_SERVER__PORT): Not a valid integer."
    ]


def test_invalid_json_in_env_names_the_variable(tmp_path):
    [line] = problems(tmp_path, environ={"AVREG_PLUGINS__DISABLED": "[webui"})
    assert line.startswith("AVREG_PLUGINS__DISABLED: looks like JSON but is not valid JSON")


def test_unknown_backend_lists_the_installed_ones(tmp_path):
    assert problems(tmp_path, toml='[storage.records]\nbackend = "mongo"\n', overrides=DEV) == [
        f"storage.records.backend (from file {tmp_path / 'registry.toml'}): "
        "unknown records backend 'mongo'; installed: postgresql, sqlite."
    ]


def test_backend_options_are_validated_by_the_backend(tmp_path):
    [line] = problems(
        tmp_path, toml='[storage.cache]\nbackend = "memory"\nmax_entries = "lots"\n', overrides=DEV
    )
    assert line.startswith("storage.cache.max_entries")


def test_unknown_keys_are_refused(tmp_path):
    assert problems(tmp_path, toml="[server]\nprot = 1\n", overrides=DEV) == [
        f"server.prot (from file {tmp_path / 'registry.toml'}): Unknown field."
    ]


def test_every_problem_is_listed_at_once(tmp_path):
    lines = problems(
        tmp_path,
        toml='[server]\nport = -1\n[storage.blobs]\nbackend = "ftp"\n',
        environ={"AVREG_LOGGING__FORMAT": "xml"},
        overrides=DEV,
    )
    assert len(lines) == 3
    assert any(line.startswith("server.port") for line in lines)
    assert any(line.startswith("storage.blobs.backend") for line in lines)
    assert any(line.startswith("logging.format (from env AVREG_LOGGING__FORMAT)") for line in lines)


def test_production_refuses_a_missing_jwt_secret(tmp_path):
    lines = problems(
        tmp_path,
        overrides={
            "storage": {"allow_embedded": True},
            "server": {"public_url": "https://registry.example.org"},
        },
    )
    assert lines == [
        "security.jwt_secret: required in production mode; set AVREG_SECURITY__JWT_SECRET "
        'or jwt_secret = { env = "NAME" } / { file = "/path" } (or run with --dev).'
    ]


def test_production_refuses_embedded_backends_without_the_flag(tmp_path):
    records, cache = problems(
        tmp_path,
        overrides={
            "security": {"jwt_secret": SECRET},
            "server": {"public_url": "https://registry.example.org"},
        },
    )
    assert records.startswith("storage.records.backend: the embedded 'sqlite' backend is refused")
    assert cache.startswith("storage.cache.backend: the embedded 'memory' backend is refused")


def test_production_refuses_a_missing_public_url(tmp_path):
    [line] = problems(
        tmp_path,
        overrides={"security": {"jwt_secret": SECRET}, "storage": {"allow_embedded": True}},
    )
    assert line.startswith("server.public_url: required in production mode")


def test_production_accepts_server_backends(tmp_path):
    settings, _ = load(
        tmp_path,
        overrides={
            "security": {"jwt_secret": SECRET},
            "server": {"public_url": "https://registry.example.org"},
            "storage": {
                "records": {"backend": "postgresql", "dsn": "postgresql://u@db/registry"},
                "cache": {"backend": "redis", "url": "redis://cache:6379/0"},
            },
        },
    )
    assert settings.production and settings.storage.records.backend == "postgresql"


def test_a_short_jwt_secret_is_refused(tmp_path):
    [line] = problems(tmp_path, environ={"AVREG_SECURITY__JWT_SECRET": "short"}, overrides=DEV)
    assert line == (
        "security.jwt_secret (from env AVREG_SECURITY__JWT_SECRET): must be at least 32 characters."
    )


class GreeterOptions(Schema):
    class Meta:
        unknown = RAISE

    greeting = fields.String(load_default="hello", validate=validate.Length(max=10))


class Greeter:
    @hookimpl
    def register_config_schema(self):
        return GreeterOptions


def test_a_plugin_section_is_validated_by_its_schema(tmp_path):
    settings, _ = load(
        tmp_path,
        '[plugins.greeter]\ngreeting = "hi"\n',
        overrides=DEV,
        plugins=[("greeter", Greeter())],
    )
    assert settings.plugin_config("greeter") == {"greeting": "hi"}


def test_a_plugin_section_gets_its_defaults_when_absent(tmp_path):
    settings, _ = load(tmp_path, overrides=DEV, plugins=[("greeter", Greeter())])
    assert settings.plugin_config("greeter") == {"greeting": "hello"}


def test_a_bad_plugin_section_names_the_plugin_key(tmp_path):
    lines = problems(
        tmp_path,
        toml='[plugins.greeter]\ngreeting = "a very long greeting"\nshout = true\n',
        overrides=DEV,
        plugins=[("greeter", Greeter())],
    )
    assert sorted(line.split(" ")[0] for line in lines) == [
        "plugins.greeter.greeting",
        "plugins.greeter.shout",
    ]


def test_a_section_for_an_unknown_plugin_is_a_problem(tmp_path):
    assert problems(tmp_path, toml="[plugins.nobody]\nx = 1\n", overrides=DEV) == [
        "plugins.nobody: no plugin named 'nobody' is loaded."
    ]


def test_a_section_for_a_disabled_plugin_is_kept_quietly(tmp_path):
    settings, _ = load(
        tmp_path,
        '[plugins]\ndisabled = ["greeter"]\n[plugins.greeter]\ngreeting = "hi"\n',
        overrides=DEV,
        plugins=[("greeter", Greeter())],
    )
    assert settings.plugin_config("greeter") == {}


def test_options_for_a_plugin_without_options_are_a_problem(tmp_path):
    assert problems(tmp_path, toml="[plugins.webui]\ntheme = 1\n", overrides=DEV) == [
        "plugins.webui: plugin 'webui' takes no options."
    ]
