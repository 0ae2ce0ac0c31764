"""Backup and restore with a checksum manifest (`crm backup PATH`, `crm restore PATH`).

Three kinds of backup file, each with `PATH.manifest.json` beside it:
- `sqlite`: SQLite's online backup API copies the live database page by page into PATH (a consistent
  snapshot while the app keeps running).
- `pg_dump`: PostgreSQL through `pg_dump --format=custom`, taken inside an exported snapshot that the
  manifest's checksums are computed in too, so both describe exactly the same data.
- `logical`: a portable gzip'd JSON-lines dump of every table (used for PostgreSQL when `pg_dump` is not
  installed, or on request; it restores into SQLite or PostgreSQL alike).

The manifest records the kind, the database dialect, the Alembic revision, the SHA-256 and size of
PATH, and for every table its row count and a content checksum (SHA-256 over the rows in primary-key
order, each value in a canonical text form). `restore` checks all of it *before* touching the live
database — the file's SHA-256, the revision against this code's migrations, and every table's count
and checksum recomputed from the file (a `pg_dump` file is first restored into a scratch database for
that) — and refuses with a clear message otherwise. After replacing it recomputes the live checksums
and compares them again.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # runs pg_dump/pg_restore with an argument list, never a shell
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, and_, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import sort_tables

from app.extensions import db
from app.models.customer_name_gram import NAME_GRAM

MANIFEST_SUFFIX = ".manifest.json"
KINDS = ("sqlite", "pg_dump", "logical")
LOGICAL_FORMAT = "crm-logical"
_BATCH = 1000


class BackupError(RuntimeError):
    """A backup could not be made, or a file is refused for restore; the message says why."""


@dataclass
class RestoreResult:
    kind: str
    tables: int
    rows: int
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- checksums

def canonical(value: Any) -> Any:
    """A value as JSON-safe text/number, the same whichever driver returned it."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def _row_line(values: Iterable[Any]) -> bytes:
    return (json.dumps(list(values), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _ordered_select(table: Table):  # noqa: ANN202
    keys = list(table.primary_key.columns) or list(table.columns)
    return select(table).order_by(*keys)


def _reflect(conn: Connection) -> MetaData:
    meta = MetaData()
    meta.reflect(conn)
    return meta


def _cycle_breakers() -> dict[str, set[str]]:
    """Columns of the foreign keys the models mark `use_alter`: departments, users and teams point at each
    other (a department's head, a user's department and team, a team's lead), so no table order puts every
    parent first. Tables are ordered without these keys; restore fills these columns once every row is in."""
    from flask_appbuilder import Model

    out: dict[str, set[str]] = {}
    for table in Model.metadata.tables.values():
        for fkc in table.foreign_key_constraints:
            if fkc.use_alter:
                out.setdefault(table.name, set()).update(fkc.column_keys)
    return out


def _ordered_tables(meta: MetaData) -> list[Table]:
    """Parents before children (the order a backup writes and a restore inserts in), cycles broken."""
    breakers = _cycle_breakers()
    return sort_tables(meta.tables.values(),
                       skip_fn=lambda fk: fk.parent.name in breakers.get(fk.parent.table.name, set()))


def table_checksums(conn: Connection) -> dict[str, dict[str, Any]]:
    """{table: {"rows": n, "sha256": hex}} for every table the connection sees."""
    meta = _reflect(conn)
    result: dict[str, dict[str, Any]] = {}
    for name in sorted(meta.tables):
        digest = hashlib.sha256()
        rows = 0
        for row in conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
                _ordered_select(meta.tables[name])):
            digest.update(_row_line(canonical(v) for v in row))
            rows += 1
        result[name] = {"rows": rows, "sha256": digest.hexdigest()}
    return result


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + MANIFEST_SUFFIX)


def code_head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from flask import current_app

    cfg = Config()
    cfg.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(cfg).get_current_head() or ""


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - an empty database has no alembic_version table
        return None


# ---------------------------------------------------------------- backup

def _dialect() -> str:
    return db.engine.dialect.name


def _libpq_url(url: Any = None) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL for pg_dump/pg_restore, with the password in PGPASSWORD
    (never on the command line, where `ps` would show it)."""
    url = url if url is not None else db.engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = make_url(str(url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)))
    return plain.render_as_string(hide_password=False), env


def choose_kind(requested: str | None = None) -> str:
    if requested and requested != "auto":
        if requested not in KINDS:
            raise BackupError(f"unknown backup format '{requested}' (use one of: auto, {', '.join(KINDS)})")
        if requested == "sqlite" and _dialect() != "sqlite":
            raise BackupError("the 'sqlite' format needs a SQLite database; this one is " + _dialect())
        if requested == "pg_dump" and (_dialect() != "postgresql" or not shutil.which("pg_dump")):
            raise BackupError("the 'pg_dump' format needs PostgreSQL and pg_dump on the PATH")
        return requested
    if _dialect() == "sqlite":
        return "sqlite"
    if _dialect() == "postgresql" and shutil.which("pg_dump"):
        return "pg_dump"
    return "logical"


def backup(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Write a consistent backup to PATH and its manifest beside it; returns the manifest."""
    path = Path(path).resolve()
    if path.exists() and path.is_dir():
        raise BackupError(f"{path} is a directory; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = choose_kind(kind)
    partial = path.with_name(path.name + ".partial")
    db.session.remove()
    try:
        if kind == "sqlite":
            tables, revision = _backup_sqlite(partial)
        elif kind == "pg_dump":
            tables, revision = _backup_pg_dump(partial)
        else:
            tables, revision = _backup_logical(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    manifest = {
        "app": "telecom-crm",
        "format_version": 1,
        "kind": kind,
        "dialect": _dialect(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "alembic_revision": revision,
        "file": path.name,
        "file_size": path.stat().st_size,
        "file_sha256": file_sha256(path),
        "tables": tables,
    }
    tmp = manifest_path(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, manifest_path(path))
    return manifest


def _sqlite_file() -> str:
    name = db.engine.url.database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return name


def _backup_sqlite(target: Path) -> tuple[dict, str | None]:
    src = sqlite3.connect(_sqlite_file())
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return _checksums_of_sqlite_file(target)


def _checksums_of_sqlite_file(path: Path) -> tuple[dict, str | None]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return table_checksums(conn), _revision(conn)
    finally:
        engine.dispose()


def _backup_pg_dump(target: Path) -> tuple[dict, str | None]:
    url, env = _libpq_url()
    with db.engine.connect() as conn:
        conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
        proc = subprocess.run(  # noqa: S603 # nosec B603 # fixed program, argument list, no shell
            [shutil.which("pg_dump") or "pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password",
             f"--file={target}", f"--dbname={url}"],
            env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()}")
        tables = table_checksums(conn)  # the same snapshot pg_dump saw
        revision = _revision(conn)
        conn.rollback()
    return tables, revision


def _backup_logical(target: Path) -> tuple[dict, str | None]:
    tables: dict[str, dict[str, Any]] = {}
    with db.engine.connect() as conn:
        if _dialect() == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        meta = _reflect(conn)
        revision = _revision(conn)
        with gzip.open(target, "wb") as out:
            # Markers are JSON objects, rows are arrays: the two can never be confused.
            out.write(_marker({"format": LOGICAL_FORMAT, "version": 1, "dialect": _dialect()}))
            for table in _ordered_tables(meta):  # parents before children: the order restore inserts in
                out.write(_marker({"table": table.name, "columns": [c.name for c in table.columns]}))
                digest = hashlib.sha256()
                rows = 0
                for row in conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
                        _ordered_select(table)):
                    line = _row_line(canonical(v) for v in row)
                    out.write(line)
                    digest.update(line)
                    rows += 1
                tables[table.name] = {"rows": rows, "sha256": digest.hexdigest()}
            out.write(_marker({"end": True}))
        conn.rollback()
    return dict(sorted(tables.items())), revision


# ---------------------------------------------------------------- restore

def read_manifest(path: Path) -> dict[str, Any]:
    mpath = manifest_path(path)
    if not path.is_file():
        raise BackupError(f"backup file {path} does not exist")
    if not mpath.is_file():
        raise BackupError(f"manifest {mpath.name} is missing; refusing to restore an unverifiable file")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BackupError(f"manifest {mpath.name} is not valid JSON: {exc}") from exc
    if manifest.get("app") != "telecom-crm" or manifest.get("kind") not in KINDS or "tables" not in manifest:
        raise BackupError(f"{mpath.name} is not a Telecom CRM backup manifest")
    return manifest


def verify_file(path: str | Path) -> dict[str, Any]:
    """Everything that can be checked without touching the live database; returns the manifest."""
    path = Path(path).resolve()
    manifest = read_manifest(path)
    if path.stat().st_size != manifest.get("file_size") or file_sha256(path) != manifest.get("file_sha256"):
        raise BackupError(f"{path.name} does not match its manifest (SHA-256 differs): the file is corrupt "
                          "or belongs to another backup")
    head = code_head_revision()
    if manifest.get("alembic_revision") != head:
        raise BackupError(f"backup is at schema revision {manifest.get('alembic_revision')!r}, this code at "
                          f"{head!r}: restore it with the matching version of the application")
    kind = manifest["kind"]
    if kind in ("sqlite", "pg_dump") and manifest.get("dialect") != _dialect():
        raise BackupError(f"a {manifest.get('dialect')} '{kind}' backup cannot be restored into {_dialect()}; "
                          "use a 'logical' backup to move between databases")
    if kind == "sqlite":
        _verify_sqlite_file(path, manifest)
    elif kind == "logical":
        _compare(manifest["tables"], _logical_checksums(path), "the backup file")
    else:
        proc = subprocess.run(  # noqa: S603 # nosec B603 # fixed program, argument list, no shell
            [_need("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BackupError(f"pg_restore cannot read {path.name}: {proc.stderr.strip()}")
        _verify_pg_dump_content(path, manifest)
    return manifest


def _verify_pg_dump_content(path: Path, manifest: dict[str, Any]) -> None:
    """Restore the dump into a scratch database on the same server and compare every table with the
    manifest, so a dump that does not hold what its manifest says is refused before anything is
    replaced. Needs CREATEDB; without it the check is skipped (the post-restore check still runs)."""
    from sqlalchemy.exc import DBAPIError

    scratch = f"crm_verify_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    except DBAPIError:
        admin.dispose()
        manifest.setdefault("_notes", []).append(
            "content check before restoring skipped: no permission to create a scratch database")
        return
    scratch_url = db.engine.url.set(database=scratch)
    try:
        url, env = _libpq_url(scratch_url)
        proc = subprocess.run(  # noqa: S603 # nosec B603 # fixed program, argument list, no shell
            [_need("pg_restore"), "--exit-on-error", "--no-owner", "--no-privileges", "--no-password",
             f"--dbname={url}", str(path)], env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BackupError(f"{path.name} does not restore cleanly: {proc.stderr.strip()[-2000:]}")
        engine = create_engine(scratch_url)
        try:
            with engine.connect() as conn:
                _compare(manifest["tables"], table_checksums(conn), "the backup file")
        finally:
            engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def _need(program: str) -> str:
    found = shutil.which(program)
    if not found:
        raise BackupError(f"{program} is not installed (needed for this backup kind)")
    return found


def _verify_sqlite_file(path: Path, manifest: dict[str, Any]) -> None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            status = con.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from exc
    if status != "ok":
        raise BackupError(f"{path.name} fails SQLite's integrity check: {status}")
    tables, _ = _checksums_of_sqlite_file(path)
    _compare(manifest["tables"], tables, "the backup file")


def _compare(expected: dict[str, Any], actual: dict[str, Any], where: str) -> None:
    bad = []
    for name in sorted(set(expected) | set(actual)):
        e, a = expected.get(name), actual.get(name)
        if e != a:
            if e is None or a is None:
                bad.append(f"{name}: {'missing from the manifest' if e is None else 'missing'}")
            else:
                bad.append(f"{name}: {a['rows']} rows (manifest {e['rows']})"
                           + ("" if a["rows"] != e["rows"] else ", content checksum differs"))
    if bad:
        raise BackupError(f"{where} does not match the manifest: " + "; ".join(bad[:10]))


def _marker(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _logical_lines(path: Path) -> Iterator[list[Any] | dict[str, Any]]:
    try:
        with gzip.open(path, "rb") as fh:
            first = json.loads(fh.readline())
            if not (isinstance(first, dict) and first.get("format") == LOGICAL_FORMAT):
                raise BackupError(f"{path.name} is not a logical CRM backup")
            for raw in fh:
                yield json.loads(raw)
    except (OSError, EOFError, ValueError) as exc:
        raise BackupError(f"{path.name} is not a readable logical backup: {exc}") from exc


def _logical_checksums(path: Path) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    digest = None
    name = None
    ended = False
    for item in _logical_lines(path):
        if isinstance(item, dict) and "table" in item:
            if name is not None:
                result[name]["sha256"] = digest.hexdigest()
            name, digest = item["table"], hashlib.sha256()
            result[name] = {"rows": 0, "sha256": ""}
        elif isinstance(item, dict) and item.get("end"):
            ended = True
            break
        else:
            if name is None:
                raise BackupError(f"{path.name}: row before any table header")
            digest.update(_row_line(item))
            result[name]["rows"] += 1
    if not ended:
        raise BackupError(f"{path.name} is truncated (no end marker)")
    if name is not None:
        result[name]["sha256"] = digest.hexdigest()
    return dict(sorted(result.items()))


def restore(path: str | Path) -> RestoreResult:
    """Verify PATH against its manifest, then replace the live database's content with it."""
    path = Path(path).resolve()
    manifest = verify_file(path)
    kind = manifest["kind"]
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        _restore_sqlite(path)
    elif kind == "pg_dump":
        _restore_pg_dump(path)
    else:
        _restore_logical(path, manifest)
    db.engine.dispose()
    with db.engine.connect() as conn:
        actual = table_checksums(conn)
    _compare(manifest["tables"], actual, "the restored database")
    rows = sum(t["rows"] for t in manifest["tables"].values())
    return RestoreResult(kind=kind, tables=len(manifest["tables"]), rows=rows, notes=manifest.get("_notes", []))


def _restore_sqlite(path: Path) -> None:
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    dst = sqlite3.connect(_sqlite_file(), timeout=30)
    try:
        src.backup(dst)  # page copy in one transaction on the live file
    finally:
        dst.close()
        src.close()


def _restore_pg_dump(path: Path) -> None:
    url, env = _libpq_url()
    env["PGOPTIONS"] = "-c lock_timeout=30000"  # a busy web worker makes restore fail, not hang
    proc = subprocess.run(  # noqa: S603 # nosec B603 # fixed program, argument list, no shell
        [_need("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--exit-on-error", "--no-owner",
         "--no-privileges", "--no-password", f"--dbname={url}", str(path)],
        env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BackupError("pg_restore failed, nothing was changed (single transaction): "
                          + proc.stderr.strip()[-2000:])


def _decoder(column: Any):  # noqa: ANN001, ANN202
    try:
        py = column.type.python_type
    except NotImplementedError:
        return lambda v: v
    if py is dt.datetime:
        return lambda v: None if v is None else dt.datetime.fromisoformat(v)
    if py is dt.date:
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if py is dt.time:
        return lambda v: None if v is None else dt.time.fromisoformat(v)
    if py is Decimal:
        return lambda v: None if v is None else Decimal(v)
    if py is float:
        return lambda v: None if v is None else float(v)
    if py is bytes:
        return lambda v: None if v is None else bytes.fromhex(v)
    if py is bool:
        return lambda v: None if v is None else bool(v)
    return lambda v: v


def _restore_logical(path: Path, manifest: dict[str, Any]) -> None:
    engine = db.engine
    with engine.begin() as conn:
        meta = _reflect(conn)
        present = [t for t in _ordered_tables(meta) if t.name in manifest["tables"]]
        missing = sorted(set(manifest["tables"]) - set(meta.tables))
        if missing:
            raise BackupError("the live database lacks tables the backup has: " + ", ".join(missing)
                              + " (run `crm init` first)")
        breakers = _cycle_breakers()
        for table in present:  # a cycle's keys first, so the deletes below meet no reference
            if cols := breakers.get(table.name, set()) & set(table.c.keys()):
                conn.execute(table.update().values(dict.fromkeys(cols)))
        for table in reversed(present):
            conn.execute(table.delete())
        table = None
        columns: list[str] = []
        decoders: list[Any] = []
        batch: list[dict[str, Any]] = []
        later: list[tuple[Table, dict[str, Any], dict[str, Any]]] = []  # (table, primary key, cycle columns)

        def flush() -> None:
            if batch and table is not None:
                cols = breakers.get(table.name, set()) & set(table.c.keys())
                for row in batch if cols else ():
                    values = {c: row[c] for c in cols if row.get(c) is not None}
                    if values:
                        later.append((table, {c.name: row[c.name] for c in table.primary_key}, values))
                        row.update(dict.fromkeys(values))
                conn.execute(table.insert(), batch)
                batch.clear()

        for item in _logical_lines(path):
            if isinstance(item, dict) and item.get("end"):
                break
            if isinstance(item, dict):
                flush()
                table = meta.tables[item["table"]]
                columns = item["columns"]
                decoders = [_decoder(table.c[c]) for c in columns]
                continue
            batch.append({c: f(v) for c, f, v in zip(columns, decoders, item, strict=True)})
            if len(batch) >= _BATCH:
                flush()
        flush()
        _reload_trigger_written(conn, path, meta, present)
        for target, key, values in later:  # every row is in: the cycle's references can point now
            conn.execute(target.update().where(and_(*(target.c[k] == v for k, v in key.items()))).values(values))
        if engine.dialect.name == "postgresql":
            _reset_sequences(conn, present)


# Trigger-written tables the models do not declare: PostgreSQL's customer name grams (migration 0026).
TRIGGER_WRITTEN_OUTSIDE_MODELS = {NAME_GRAM.name}


def _reload_trigger_written(conn: Connection, path: Path, meta: MetaData, present: list[Table]) -> None:
    """Put back the file's rows of the tables that triggers write (`info={"written_by_triggers": True}`,
    e.g. the care team summary): loading the tables they follow has just added trigger rows of its own."""
    from flask_appbuilder import Model

    declared = {name for name, t in Model.metadata.tables.items() if t.info.get("written_by_triggers")}
    names = {t.name for t in present if t.name in declared | TRIGGER_WRITTEN_OUTSIDE_MODELS}
    if not names:
        return
    for name in names:
        conn.execute(meta.tables[name].delete())
    table, columns, decoders, batch = None, [], [], []
    for item in _logical_lines(path):
        if isinstance(item, dict) and (item.get("end") or "table" in item):
            if batch:
                conn.execute(table.insert(), batch)
                batch = []
            if item.get("end"):
                break
            table = meta.tables[item["table"]] if item["table"] in names else None
            columns = item["columns"]
            decoders = [_decoder(table.c[c]) for c in columns] if table is not None else []
        elif table is not None:
            batch.append({c: f(v) for c, f, v in zip(columns, decoders, item, strict=True)})
            if len(batch) >= _BATCH:
                conn.execute(table.insert(), batch)
                batch = []


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """Inserting explicit ids does not move PostgreSQL's sequences; put each after its table's max id."""
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) != 1:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                           {"t": f'"{table.name}"', "c": pk[0].name}).scalar()
        if seq:
            conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT MAX("{pk[0].name}") FROM "{table.name}"), 0) + 1, '  # noqa: S608 - reflected table names
                              "false)"), {"s": seq})
