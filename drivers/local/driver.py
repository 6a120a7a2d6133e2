"""The embedded local cloud, a real provider on the local disk.

Objects live in SQLite (``<data_dir>/cloud.db``); every volume and server root disk is a sparse
file under ``<data_dir>/volumes`` that holds real bytes. It enforces project quotas inside one
write transaction, answers NotFound and Conflict like a real cloud (deleting a network that still
has subnets, attaching an in-use volume, a duplicate project name...), and refuses to change an
object that does not carry the caller's ownership tag.

Options (govcloud.toml ``[targets.<name>]``, schema in options.py): ``data_dir`` (relative to
the workspace), ``latency_ms`` (simulated API latency per call), ``external_networks``,
``images``, ``fail_create`` (address globs whose create leaves a broken object: fault injection).
"""
from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Census, Conflict, CreateFailed, Driver,
                          MediaAccess, NotFound, Observed, PowerControl, Request,
                          assert_owned)
from drivers.local.department_reads import LocalDepartmentReads
from drivers.local.extras import AddressesAndRetagging
from drivers.local.options import DEFAULT_IMAGES, LocalOptions
from drivers.local.quota import Quotas
from drivers.local.survey import LocalSurvey

GIB = 1 << 30

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, project_id TEXT, name TEXT NOT NULL,
  props TEXT NOT NULL, refs TEXT NOT NULL, tags TEXT NOT NULL, status TEXT NOT NULL,
  owner TEXT, address TEXT, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS objects_owner ON objects(owner, address);
CREATE INDEX IF NOT EXISTS objects_project ON objects(project_id, kind);
CREATE INDEX IF NOT EXISTS objects_kind_name ON objects(kind, name);
CREATE TABLE IF NOT EXISTS images (name TEXT PRIMARY KEY);
"""
# Lookups by reference and by floating address: without these indexes every subnet,
# attachment, floating IP and delete guard scanned the whole table (quadratic: most of a
# 1,000-approval apply). A query uses one only when it spells the expression exactly as here.
REF_FIELDS = ("network", "server", "volume", "subnet", "security_group", "domain")
SCHEMA += "".join(f"CREATE INDEX IF NOT EXISTS objects_ref_{f} ON objects("
                  f"json_extract(refs,'$.{f}'));\n" for f in REF_FIELDS)
SCHEMA += "CREATE INDEX IF NOT EXISTS objects_fip ON objects(json_extract(props,'$.address'));\n"

# The parent whose project an object belongs to, per kind.
_PROJECT_FROM = {"project": None, "domain": None, "quota": "project", "network": "project",
                 "subnet": "network", "router": "project", "security_group": "project",
                 "server": "project", "volume": "project", "volume_attachment": "server",
                 "floating_ip": "project"}


def _loads_all(docs) -> list:
    """Many JSON documents (each a complete value, as stored) decoded in one call."""
    return json.loads("[" + ",".join(docs) + "]")


class LocalDriver(Driver, MediaAccess, Census, PowerControl, AddressesAndRetagging, LocalSurvey,
                  LocalDepartmentReads, Quotas):
    name = "local"
    kinds = frozenset(_PROJECT_FROM)
    options_model = LocalOptions

    def __init__(self, target, options, workspace_root, owner):
        super().__init__(target, options, workspace_root, owner)
        data_dir = Path(options.get("data_dir", ".govcloud/local-cloud"))
        self.data_dir = data_dir if data_dir.is_absolute() else workspace_root / data_dir
        self.volume_dir = self.data_dir / "volumes"
        self.volume_dir.mkdir(parents=True, exist_ok=True)
        self.latency = float(options.get("latency_ms", 0)) / 1000.0
        self.in_process = not self.latency   # simulated latency: worker threads pay again
        self.external_networks = set(options.get("external_networks", ["internet", "extranet"]))
        self.fail_create = list(options.get("fail_create", []))
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._db().executescript(SCHEMA)  # executescript commits: keep it outside _tx
        with self._tx() as db:
            db.executemany("INSERT OR IGNORE INTO images(name) VALUES (?)",
                           [(i,) for i in options.get("images") or DEFAULT_IMAGES])
        from drivers.apilog import instrument_local
        instrument_local(self)   # --debug: each operation logged like an HTTP call

    # --- plumbing -----------------------------------------------------------------------
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.data_dir / "cloud.db", timeout=60, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # One writer thread at a time in this process: threads waiting on SQLite's own write
        # lock sleep in its busy handler (up to 100 ms a try), which was most of the wall time
        # of an 8-worker apply. Other processes sharing the cloud still meet that handler.
        with self._write_lock:
            db = self._db()
            if getattr(self._local, "removed", None) is not None:   # inside batch()
                db.execute("SAVEPOINT call")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK TO call")
                    db.execute("RELEASE call")
                    raise
                db.execute("RELEASE call")
                return
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """The calls made inside, in this thread, share one transaction (each still undone on
        its own when it fails: a savepoint); committed on the way out, before the executor
        records them. A kill before that keeps none of them, and no state names them. Files of
        deleted objects are removed once the deletes are committed."""
        with self._write_lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            removed = self._local.removed = []
            try:
                yield
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:   # a failed COMMIT (a full disk) may leave it open
                    db.execute("ROLLBACK")
                raise
            finally:
                self._local.removed = None
            for name in removed:
                self._remove_file(name)

    def _call(self) -> None:
        self.api_calls += 1
        if self.latency:
            time.sleep(self.latency)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @staticmethod
    def _row(row) -> Observed:
        oid, kind, _project, _name, props, refs, tags, status = row[:8]
        tags = json.loads(tags)
        return Observed(address=tags.get(ADDRESS_TAG, ""), kind=kind, cloud_id=oid,
                        properties=json.loads(props), refs=json.loads(refs), tags=tags,
                        status=status)

    _COLS = "id, kind, project_id, name, props, refs, tags, status"

    def _get(self, db, oid: str, kind: str | None = None) -> Observed:
        row = db.execute(f"SELECT {self._COLS} FROM objects WHERE id=?", (oid,)).fetchone()
        if row is None or (kind and row[1] != kind):
            raise NotFound(f"{kind or 'object'} {oid} not found")
        return self._row(row)

    def _must_exist(self, db, oid: str, kind: str) -> None:
        """``_get``'s NotFound without decoding the object (a parent's existence check)."""
        row = db.execute("SELECT kind FROM objects WHERE id=?", (oid,)).fetchone()
        if row is None or row[0] != kind:
            raise NotFound(f"{kind} {oid} not found")

    def _project_of(self, db, kind: str, refs: dict[str, str]) -> str | None:
        parent_field = _PROJECT_FROM[kind]
        if kind == "project":
            return None
        if parent_field is None:
            return None
        pid = refs[parent_field]
        if parent_field == "project":
            self._must_exist(db, pid, "project")
            return pid
        row = db.execute("SELECT project_id FROM objects WHERE id=?", (pid,)).fetchone()
        if row is None:
            raise NotFound(f"{parent_field} {pid} not found")
        return row[0]

    # --- reads --------------------------------------------------------------------------
    def observe(self) -> list[Observed]:
        self._call()
        rows = self._db().execute(f"SELECT {self._COLS} FROM objects WHERE owner=?",
                                  (self.owner,)).fetchall()
        # One json.loads per column for all rows: per-row calls were most of a no-op plan's
        # observe at 10,000 approvals (three small documents per object).
        props, refs, tags = (_loads_all(r[i] for r in rows) for i in (4, 5, 6))
        return [Observed(address=t.get(ADDRESS_TAG, ""), kind=r[1], cloud_id=r[0], properties=p,
                         refs=f, tags=t, status=r[7])
                for r, p, f, t in zip(rows, props, refs, tags)]

    def find(self, address: str) -> Observed | None:
        self._call()
        row = self._db().execute(f"SELECT {self._COLS} FROM objects WHERE owner=? AND address=? "
                                 "ORDER BY created_at LIMIT 1", (self.owner, address)).fetchone()
        return self._row(row) if row else None

    def get(self, cloud_id: str) -> Observed:
        self._call()
        return self._get(self._db(), cloud_id)

    # --- writes ---------------------------------------------------------------------------
    def create(self, req: Request) -> Observed:
        self._call()
        oid = uuid.uuid4().hex
        broken = any(fnmatch.fnmatchcase(req.address, g) for g in self.fail_create)
        with self._tx() as db:
            project_id = self._project_of(db, req.kind, req.refs)
            getattr(self, f"_check_{req.kind}", lambda *a: None)(db, req, project_id)
            self._charge(db, project_id, self._cost(req.kind, req.properties))
            if req.kind == "project":
                project_id = oid
            status = "ERROR" if broken else "ACTIVE"
            props = {**req.properties, **self._addresses(db, req)}
            docs = (json.dumps(props, sort_keys=True), json.dumps(req.refs, sort_keys=True),
                    json.dumps(req.tags, sort_keys=True))
            db.execute("INSERT INTO objects VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
                oid, req.kind, project_id, req.name, *docs, status, req.tags.get(OWNER_TAG),
                req.tags.get(ADDRESS_TAG), time.time()))
            if req.kind == "server":
                self._make_file(f"{oid}-root", req.properties["system_disk_gb"])
            elif req.kind == "volume":
                self._make_file(oid, req.properties["size_gb"])
        if broken:
            raise CreateFailed(f"{req.kind} {req.name} went to status ERROR (injected fault)", oid)
        # what was inserted, as a read would give it back (copies of what was dumped, so the
        # caller's request and the returned object share nothing)
        return Observed(address=req.tags.get(ADDRESS_TAG, ""), kind=req.kind, cloud_id=oid,
                        properties=json.loads(docs[0]), refs=dict(sorted(req.refs.items())),
                        tags=dict(sorted(req.tags.items())), status=status)

    def _owned(self, current: Observed) -> None:
        assert_owned(current.tags, self.owner, f"{current.kind} {current.cloud_id}")

    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed:
        self._call()
        with self._tx() as db:
            now = self._get(db, current.cloud_id, current.kind)
            self._owned(now)
            props = dict(now.properties)
            new = {f: req.properties[f] for f in fields if f in req.properties}
            merged = {**props, **new}
            if now.kind == "volume" and merged["size_gb"] < props["size_gb"]:
                raise Conflict(f"volume {now.cloud_id}: cannot shrink from {props['size_gb']} GB "
                               f"to {merged['size_gb']} GB")
            if now.kind == "quota":
                use = self._usage(db, now.refs["project"])
                low = [f"{k} {merged[k]} < usage {use[k]}" for k in merged if use.get(k, 0) > merged[k]]
                if low:
                    raise Conflict("quota below current usage: " + "; ".join(low))
            else:
                old_cost, new_cost = self._cost(now.kind, props), self._cost(now.kind, merged)
                delta = {k: new_cost.get(k, 0) - old_cost.get(k, 0) for k in new_cost}
                project = db.execute("SELECT project_id FROM objects WHERE id=?",
                                     (now.cloud_id,)).fetchone()[0]
                self._charge(db, project, {k: v for k, v in delta.items() if v > 0})
            db.execute("UPDATE objects SET props=?, name=?, tags=? WHERE id=?",
                       (json.dumps(merged, sort_keys=True), merged.get("name", req.name),
                        json.dumps({**now.tags, **req.tags}, sort_keys=True), now.cloud_id))
            if now.kind == "volume" and merged["size_gb"] != props["size_gb"]:
                os.truncate(self.volume_path(now.cloud_id), merged["size_gb"] * GIB)
        return self._get(self._db(), current.cloud_id)

    def delete(self, current: Observed) -> None:
        self._call()
        with self._tx() as db:
            now = self._get(db, current.cloud_id, current.kind)
            self._owned(now)
            getattr(self, f"_guard_delete_{now.kind}", lambda *a: None)(db, now)
            if now.kind == "server":  # deleting a server detaches its volumes, like Nova
                db.execute("DELETE FROM objects WHERE kind='volume_attachment' AND "
                           "json_extract(refs, '$.server')=?", (now.cloud_id,))
            db.execute("DELETE FROM objects WHERE id=?", (now.cloud_id,))
        gone = f"{now.cloud_id}-root" if now.kind == "server" else \
            now.cloud_id if now.kind == "volume" else None
        removed = getattr(self._local, "removed", None)
        if gone is not None and removed is not None:
            removed.append(gone)           # once the batch's deletes are committed
        elif gone is not None:
            self._remove_file(gone)

    # --- per-kind rules -------------------------------------------------------------------
    def _dupe(self, db, kind: str, name: str, where: str, args: tuple, what: str) -> None:
        if db.execute(f"SELECT 1 FROM objects WHERE kind=? AND name=? AND {where}",
                      (kind, name, *args)).fetchone():
            raise Conflict(f"{kind} {name!r} already exists {what}")

    def _check_domain(self, db, req, _p):
        self._dupe(db, "domain", req.name, "1=1", (), "")

    def _check_project(self, db, req, _p):
        self._must_exist(db, req.refs["domain"], "domain")
        # unary +: look up by (kind, name), not by the domain index (one domain, every project)
        self._dupe(db, "project", req.name, "+json_extract(refs,'$.domain')=?", (req.refs["domain"],),
                   "in this domain")

    def _check_quota(self, db, req, project_id):
        if db.execute("SELECT 1 FROM objects WHERE kind='quota' AND project_id=?",
                      (project_id,)).fetchone():
            raise Conflict(f"project {project_id} already has a quota set")

    def _check_subnet(self, db, req, project_id):
        self._must_exist(db, req.refs["network"], "network")
        new = ipaddress.ip_network(req.properties["cidr"])
        for (props,) in db.execute("SELECT props FROM objects WHERE kind='subnet' AND "
                                   "json_extract(refs,'$.network')=?", (req.refs["network"],)):
            if new.overlaps(ipaddress.ip_network(json.loads(props)["cidr"])):
                raise Conflict(f"subnet {new} overlaps another subnet of network {req.refs['network']}")

    def _same_project(self, db, project_id, oid, what):
        row = db.execute("SELECT project_id, kind FROM objects WHERE id=?", (oid,)).fetchone()
        if row is None:
            raise NotFound(f"{what} {oid} not found")
        if row[0] != project_id:
            raise Conflict(f"{what} {oid} belongs to another project: projects do not share "
                           f"networks, subnets, security groups or volumes")

    def _external(self, name: str) -> None:
        if name not in self.external_networks:
            raise NotFound(f"external network {name!r} not found "
                           f"(this cloud has: {', '.join(sorted(self.external_networks))})")

    def _check_router(self, db, req, project_id):
        self._external(req.properties["external_network"])
        self._same_project(db, project_id, req.refs["subnet"], "subnet")

    def _check_floating_ip(self, db, req, _p):
        self._external(req.properties["external_network"])

    def _check_server(self, db, req, project_id):
        if not db.execute("SELECT 1 FROM images WHERE name=?", (req.properties["image"],)).fetchone():
            raise NotFound(f"image {req.properties['image']!r} not found")
        self._same_project(db, project_id, req.refs["network"], "network")
        self._same_project(db, project_id, req.refs["security_group"], "security group")

    def _check_volume_attachment(self, db, req, project_id):
        self._must_exist(db, req.refs["server"], "server")
        self._must_exist(db, req.refs["volume"], "volume")
        self._same_project(db, project_id, req.refs["volume"], "volume")
        if db.execute("SELECT 1 FROM objects WHERE kind='volume_attachment' AND "
                      "json_extract(refs,'$.volume')=?", (req.refs["volume"],)).fetchone():
            raise Conflict(f"volume {req.refs['volume']} is in-use (already attached)")

    def _referenced(self, db, field: str, oid: str, kinds: tuple[str, ...]) -> list[str]:
        q = ",".join("?" * len(kinds))
        return [r[0] for r in db.execute(
            f"SELECT kind || ' ' || id FROM objects WHERE kind IN ({q}) AND "
            f"json_extract(refs, '$.{field}')=?", (*kinds, oid))]

    def _guard(self, db, now, field, kinds):
        users = self._referenced(db, field, now.cloud_id, kinds)
        if users:
            raise Conflict(f"{now.kind} {now.cloud_id} is in use by {', '.join(users[:3])}"
                           f"{' ...' if len(users) > 3 else ''}")

    def _guard_delete_domain(self, db, now):
        self._guard(db, now, "domain", ("project",))

    def _guard_delete_project(self, db, now):
        rows = db.execute("SELECT kind || ' ' || id FROM objects WHERE project_id=? AND id<>? "
                          "AND kind<>'quota'", (now.cloud_id, now.cloud_id)).fetchall()
        if rows:
            raise Conflict(f"project {now.cloud_id} still holds {len(rows)} objects "
                           f"(e.g. {rows[0][0]})")

    def _guard_delete_network(self, db, now):
        self._guard(db, now, "network", ("subnet", "server"))

    def _guard_delete_subnet(self, db, now):
        self._guard(db, now, "subnet", ("router",))

    def _guard_delete_security_group(self, db, now):
        self._guard(db, now, "security_group", ("server",))

    def _guard_delete_server(self, db, now):
        """Deleting a server detaches its volumes (as Nova does): never another workspace's."""
        theirs = [r[0] for r in db.execute(
            "SELECT id FROM objects WHERE kind='volume_attachment' AND json_extract(refs, "
            "'$.server')=? AND (owner IS NULL OR owner<>?)", (now.cloud_id, self.owner))]
        if theirs:
            raise Conflict(f"server {now.cloud_id} has volume attachments govcloud's workspace "
                           f"{self.owner} does not own ({', '.join(theirs[:3])}): deleting it would "
                           "detach them; their owner must detach them first")

    def _guard_delete_volume(self, db, now):
        self._guard(db, now, "volume", ("volume_attachment",))

    # --- decommissioning support ------------------------------------------------------------
    def media(self, current: Observed) -> list:
        """The files that hold this object's data (a volume's file, a server's root disk)."""
        from drivers.media import Medium
        if current.kind == "volume":
            path = self.volume_path(current.cloud_id)
            kind = "volume"
        elif current.kind == "server":
            path = self.volume_dir / f"{current.cloud_id}-root.img"
            kind = "root-disk"
        else:
            return []
        if not path.exists():
            return []
        return [Medium(current.cloud_id, kind, path, current.address, path.stat().st_size)]

    def set_power(self, current: Observed, state: str) -> None:
        """Stop ("SHUTOFF") or start ("ACTIVE") a server; idempotent."""
        self._call()
        with self._tx() as db:
            now = self._get(db, current.cloud_id, "server")
            self._owned(now)
            db.execute("UPDATE objects SET status=? WHERE id=?", (state, now.cloud_id))

    def census(self, stack: str, volume_ids: list[str]) -> list[Observed]:
        """Everything, of any owner, that carries this stack's tag or points at its volumes."""
        self._call()
        rows = self._db().execute(f"SELECT {self._COLS} FROM objects").fetchall()
        out = []
        wanted = set(volume_ids)
        for r in rows:
            o = self._row(r)
            if o.tags.get("govcloud.stack") == stack or wanted & set(o.refs.values()) \
                    or o.cloud_id in wanted:
                out.append(o)
        # every file named after one of its media: volume, server root disk (<id>-root.img),
        # snapshots and backing files (<id>-*), whatever the table says
        for p in sorted({p for v in volume_ids for p in self.volume_dir.glob(f"{v}*")}):
            kind = "root-disk-file" if p.stem.endswith("-root") else "volume-file"
            out.append(Observed("", kind, p.stem, {"path": str(p)}, {}, {}))
        return out

    # --- volume bytes (real files; wiped and verified before they are deleted) -------------
    def volume_path(self, cloud_id: str) -> Path:
        return self.volume_dir / f"{cloud_id}.img"

    def _make_file(self, name: str, size_gb: int) -> None:
        with open(self.volume_dir / f"{name}.img", "wb") as f:
            f.truncate(size_gb * GIB)  # sparse: no blocks until written

    def _remove_file(self, name: str) -> None:
        try:
            (self.volume_dir / f"{name}.img").unlink()
        except FileNotFoundError:
            pass

    def ex_write_volume(self, cloud_id: str, offset: int, data: bytes) -> None:
        self._call()
        path = self.volume_path(cloud_id)
        if not path.exists():
            raise NotFound(f"volume {cloud_id} not found")
        if offset + len(data) > path.stat().st_size:
            raise Conflict("write past the end of the volume")
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(data)

    def ex_read_volume(self, cloud_id: str, offset: int, length: int) -> bytes:
        self._call()
        path = self.volume_path(cloud_id)
        if not path.exists():
            raise NotFound(f"volume {cloud_id} not found")
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(length)
