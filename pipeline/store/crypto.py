"""個人番号 at rest: Fernet (AES-128-CBC + HMAC, the `cryptography` package) on every my_number field.

`FieldCipher.from_settings` reads the key file named by `Settings.my_number_key_file` (one key per
line; the first encrypts, all decrypt: `MultiFernet`), creating it with mode 0600 on first use. The
key file must live outside the data directory, so a copy of the data alone reveals nothing.

`install(engine, cipher)` hooks the ORM so that a `fields` row of kind my_number is encrypted before
it is written (value, raw, chars, corrected_value; its crop PNG becomes `<crop>.enc`) and decrypted
when loaded. Callers keep working with clear values; the database file holds only tokens.

Rotation (`shinsei keys rotate`): a new key is put first in the file, every token is re-encrypted
with it (`MultiFernet.rotate`), then the old keys are dropped from the file.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from pipeline.errors import ShinseiError
from pipeline.settings import Settings
from pipeline.store.tables import FieldRow

log = logging.getLogger("shinsei.crypto")

PREFIX = "enc:v1:"  # marks a stored token; anything else is clear (written before encryption was on)
MY_NUMBER_KIND = "my_number"
DEFAULT_KEY_FILE = Path("~/.config/shinsei/my_number.key")
_ENCRYPTED_COLUMNS = ("value", "raw", "chars", "corrected_value")


def key_file_path(settings: Settings) -> Path:
    return (settings.my_number_key_file or DEFAULT_KEY_FILE).expanduser().resolve()


def _check_outside(path: Path, data_dir: Path) -> None:
    data = data_dir.expanduser().resolve()
    if path == data or data in path.parents:
        raise ShinseiError(
            f"the 個人番号 key file {path} is inside the data directory {data}; "
            "put it elsewhere (SHINSEI_MY_NUMBER_KEY_FILE)",
            reason="bad_key_file",
        )


def read_keys(path: Path) -> list[bytes]:
    keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]
    if not keys:
        raise ShinseiError(f"the 個人番号 key file {path} holds no key", reason="bad_key_file")
    return keys


def write_keys(path: Path, keys: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("".join(k.decode() + "\n" for k in keys))
    tmp.replace(path)


@dataclass
class FieldCipher:
    fernet: MultiFernet
    data_dir: Path | None = None  # where crop paths are relative to (to encrypt my_number crops)

    @classmethod
    def from_keys(cls, keys: list[bytes], data_dir: Path | None = None) -> FieldCipher:
        return cls(MultiFernet([Fernet(k) for k in keys]), data_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        path = key_file_path(settings)
        _check_outside(path, Path(settings.data_dir))
        if not path.exists():
            write_keys(path, [Fernet.generate_key()])
            log.warning(
                "created a new 個人番号 key file %s: back it up; without it 個人番号 cannot be read", path
            )
        return cls.from_keys(read_keys(path), Path(settings.data_dir))

    def encrypt(self, value: Any) -> Any:
        if value is None or is_token(value):
            return value
        data = json.dumps(value, ensure_ascii=False).encode()
        return PREFIX + self.fernet.encrypt(data).decode()

    def decrypt(self, value: Any) -> Any:
        if not is_token(value):
            return value
        try:
            return json.loads(self.fernet.decrypt(value[len(PREFIX) :].encode()))
        except InvalidToken:
            log.error("a 個人番号 token does not open with the configured keys")
            return value

    def rotate_token(self, value: Any) -> Any:
        if not is_token(value):
            return self.encrypt(value)
        return PREFIX + self.fernet.rotate(value[len(PREFIX) :].encode()).decode()

    def encrypt_bytes(self, data: bytes) -> bytes:
        return self.fernet.encrypt(data)

    def decrypt_bytes(self, data: bytes) -> bytes:
        return self.fernet.decrypt(data)


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


# --- ORM hooks -----------------------------------------------------------------------------------

_CIPHER_ATTR = "shinsei_field_cipher"


def install(engine: Engine, cipher: FieldCipher) -> None:
    """Encrypt my_number fields written through `engine`'s sessions, decrypt them when loaded."""
    setattr(engine, _CIPHER_ATTR, cipher)


def cipher_of(engine: Any) -> FieldCipher | None:
    return getattr(engine, _CIPHER_ATTR, None)


def _encrypt_crop(cipher: FieldCipher, crop_path: str | None) -> str | None:
    if not crop_path or crop_path.endswith(".enc") or cipher.data_dir is None:
        return crop_path
    clear = cipher.data_dir / crop_path
    if not clear.exists():
        return crop_path
    enc = clear.with_name(clear.name + ".enc")
    enc.write_bytes(cipher.encrypt_bytes(clear.read_bytes()))
    clear.unlink()
    return crop_path + ".enc"


def _before_write(_mapper: Any, connection: Any, target: FieldRow) -> None:
    cipher = cipher_of(connection.engine)
    if cipher is None or target.kind != MY_NUMBER_KIND:
        return
    for col in _ENCRYPTED_COLUMNS:
        setattr(target, col, cipher.encrypt(getattr(target, col)))
    target.crop_path = _encrypt_crop(cipher, target.crop_path)


def _after_write(_mapper: Any, connection: Any, target: FieldRow) -> None:
    # The object stays in use after the flush (expire_on_commit=False): give callers clear values back.
    cipher = cipher_of(connection.engine)
    if cipher is None or target.kind != MY_NUMBER_KIND:
        return
    for col in _ENCRYPTED_COLUMNS:
        target.__dict__[col] = cipher.decrypt(target.__dict__.get(col))


def _on_load(target: FieldRow, context: Any) -> None:
    if target.kind != MY_NUMBER_KIND:
        return
    cipher = cipher_of(context.session.get_bind())
    if cipher is None:
        return
    for col in _ENCRYPTED_COLUMNS:
        if col in target.__dict__:
            target.__dict__[col] = cipher.decrypt(target.__dict__[col])


event.listen(FieldRow, "before_insert", _before_write)
event.listen(FieldRow, "before_update", _before_write)
event.listen(FieldRow, "after_insert", _after_write)
event.listen(FieldRow, "after_update", _after_write)
event.listen(FieldRow, "load", _on_load)
event.listen(FieldRow, "refresh", lambda t, c, _a: _on_load(t, c))


def rotate_all(session: Session, new: FieldCipher) -> int:
    """Re-encrypt every my_number value (fields and review events) with `new`'s first key; returns
    the number of rows touched. Run in one transaction; the key file then drops the old keys."""
    from pipeline.store.review_tables import ReviewEventRow

    n = 0
    cols = [getattr(FieldRow, c) for c in _ENCRYPTED_COLUMNS]
    for row_id, *values in session.execute(select(FieldRow.id, *cols).where(FieldRow.kind == MY_NUMBER_KIND)):
        updates = {c: new.rotate_token(v) for c, v in zip(_ENCRYPTED_COLUMNS, values, strict=True)}
        session.execute(FieldRow.__table__.update().where(FieldRow.id == row_id).values(**updates))
        n += 1
    q = select(ReviewEventRow.id, ReviewEventRow.machine_value, ReviewEventRow.final_value).where(
        ReviewEventRow.kind == MY_NUMBER_KIND
    )
    for row_id, machine, final in session.execute(q):
        session.execute(
            ReviewEventRow.__table__.update()
            .where(ReviewEventRow.id == row_id)
            .values(machine_value=new.rotate_token(machine), final_value=new.rotate_token(final))
        )
        n += 1
    if new.data_dir is not None:
        for (crop,) in session.execute(
            select(FieldRow.crop_path).where(
                FieldRow.kind == MY_NUMBER_KIND, FieldRow.crop_path.like("%.enc")
            )
        ):
            path = new.data_dir / crop
            if path.exists():
                path.write_bytes(new.fernet.rotate(path.read_bytes()))
    return n
