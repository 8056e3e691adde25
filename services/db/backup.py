"""Backup and restore of the service's PostgreSQL database (DATABASE_URL): `scripts/backup` and
`scripts/restore` run this.

`dump FILE` writes pg_dump's custom format (compressed; schema, data, the audit trigger and the
migration version), first to FILE.partial and then renamed, so an interrupted dump never leaves
a file that looks whole. `restore FILE` loads one into an empty database in a single
transaction: all of it or nothing; a database that already has tables is refused, so a restore
never mixes with or overwrites live data. Ownership and grants are left out (`--no-owner
--no-privileges`): the restored objects belong to the user restoring them.

PostgreSQL's own client programs do the work, in this order of preference: those in PG_BIN_DIR;
those bundled with the embedded PostgreSQL (the `pgserver` wheel, PostgreSQL 16); those on PATH.
They must be of the server's major version or newer. The password goes to them in PGPASSWORD,
never on a command line.

`dump` also archives the evidence files (EVIDENCE_DIR, default `var/evidence`) beside the dump as
FILE.evidence.tar (same .partial-then-rename), taken after the dump: every row the dump holds names
a file the archive holds (a file is written before its row; an extra file is harmless).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from sqlalchemy.engine import make_url


def pg_program(name: str) -> str:
    chosen = os.environ.get("PG_BIN_DIR")
    if chosen:
        return str(Path(chosen) / name)
    try:
        import pgserver  # the embedded PostgreSQL's wheel ships the client programs too
    except ImportError:
        pass
    else:
        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PostgreSQL's client programs or set PG_BIN_DIR")
    return found


def libpq_env(database_url: str) -> dict[str, str]:
    """The SQLAlchemy URL (`postgresql+asyncpg://user:pw@host:port/db?host=/socket/dir`) as libpq's
    environment variables."""
    url = make_url(database_url)
    host = url.query.get("host") or url.host
    parts = {
        "PGHOST": host if isinstance(host, str) else None,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password if isinstance(url.password, str) else None,
        "PGDATABASE": url.database,
    }
    return {**os.environ, **{k: v for k, v in parts.items() if v}}


def dump(database_url: str, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [pg_program("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"]
    subprocess.run(command, env=libpq_env(database_url), check=True)
    partial.replace(target)
    print(f"backup written: {target} ({target.stat().st_size} bytes)")
    archive_evidence(Path(os.environ.get("EVIDENCE_DIR") or "var/evidence"), target)


def archive_evidence(directory: Path, dump_file: Path) -> Path | None:
    """The evidence files as `<dump>.evidence.tar` (uncompressed: photos and PDFs are compressed
    already); nothing when the directory does not exist (no file was ever kept)."""
    if not directory.is_dir():
        print(f"no evidence directory at {directory}: only the database was backed up")
        return None
    archive = dump_file.with_name(dump_file.name + ".evidence.tar")
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):  # a write still under way is no evidence
                tar.add(path, arcname=str(path.relative_to(directory)))
    partial.replace(archive)
    print(f"evidence archived: {archive} ({archive.stat().st_size} bytes)")
    return archive


def tables_in(database_url: str) -> int:
    query = "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    answer = subprocess.run(
        [pg_program("psql"), "--no-psqlrc", "--tuples-only", "--no-align", "--command", query],
        env=libpq_env(database_url),
        check=True,
        capture_output=True,
        text=True,
    )
    return int(answer.stdout.strip())


def restore(database_url: str, source: Path) -> None:
    if not source.is_file():
        raise SystemExit(f"no backup at {source}")
    found = tables_in(database_url)
    if found:
        raise SystemExit(
            f"refused: the target database already has {found} tables; restore into a new, empty database "
            "(createdb), then point DATABASE_URL at it"
        )
    command = [
        pg_program("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={make_url(database_url).database}",
        str(source),
    ]
    subprocess.run(command, env=libpq_env(database_url), check=True)
    print(f"restored {source} ({tables_in(database_url)} tables)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("dump", "restore"))
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        print("DATABASE_URL is not set: say which database (the dev stack prints its own)", file=sys.stderr)
        return 2
    try:
        (dump if args.action == "dump" else restore)(database_url, args.file)
    except subprocess.CalledProcessError as failure:
        print(f"{Path(str(failure.cmd[0])).name} failed (exit status {failure.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
