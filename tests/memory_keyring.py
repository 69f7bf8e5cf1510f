"""An in-memory keyring backend for the tests: the developer's credential store is never touched.

In this process: `keyring.set_keyring(MemoryKeyring())`. In a child process (the CLI run by a test): set
`PYTHON_KEYRING_BACKEND=tests.memory_keyring.MemoryKeyring` and seed it through `SEED_ENV` as JSON
`{"service": {"user": "secret"}}`.
"""

from __future__ import annotations

import json
import os

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

SEED_ENV = "POPOOL_TEST_KEYRING_SEED"
BACKEND = "tests.memory_keyring.MemoryKeyring"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        seed = json.loads(os.environ.get(SEED_ENV) or "{}")
        self._store: dict[tuple[str, str], str] = {
            (service, user): secret for service, users in seed.items() for user, secret in users.items()
        }

    def get_password(self, service: str, username: str) -> str | None:
        return self._store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
