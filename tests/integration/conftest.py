"""Fixtures only the cross-app and fault tests use."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.faults_support import FREE_KIB, PostgresAdmin, cluster_owner, mount_tmpfs, unmount, with_database


@pytest.fixture
def full_disk_db(_migrated_template):
    """DATABASE_URL of a migrated PostgreSQL database whose files live on a tmpfs with ~4 MB left.

    A real full disk, not a simulated one: a tablespace on a small tmpfs
    (owned by the cluster's OS user), the database made in it from the
    migrated template, then the tmpfs shrunk to what the database uses plus
    `FREE_KIB`. The WAL stays in the cluster's data directory on the normal
    disk, so the server itself never runs out of space (it would PANIC). The
    tablespace and the mount are removed whatever the test does.
    """
    vendor, template = _migrated_template
    if vendor != "postgresql":
        pytest.skip("a PostgreSQL tablespace; SQLite's full database is simulated with max_page_count")
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs .ci/run as root)")
    pg = PostgresAdmin()
    uid, gid = cluster_owner(pg)
    # In /tmp, not pytest's tmp_path: the server's user must be able to reach it.
    mountpoint = Path(tempfile.mkdtemp(prefix="newsportal-full-disk-", dir="/tmp"))
    suffix = uuid.uuid4().hex[:12]
    space, name = f"full_disk_{suffix}", f"faults_full_{suffix}"
    mounted = created_space = False
    try:
        mount_tmpfs(mountpoint, 64 * 1024, uid, gid)
        mounted = True
        location = mountpoint / "tablespace"
        location.mkdir(mode=0o700)
        os.chown(location, uid, gid)
        pg.execute(f"CREATE TABLESPACE {space} LOCATION '{location}'")
        created_space = True
        pg.execute(f"CREATE DATABASE {name} TEMPLATE {template} TABLESPACE {space}")
        usage = shutil.disk_usage(mountpoint)
        size_kib = usage.used // 1024 + FREE_KIB
        shrink = subprocess.run(["mount", "-o", f"remount,size={size_kib}k", str(mountpoint)],
                                capture_output=True, text=True)
        assert shrink.returncode == 0, shrink.stderr
        yield with_database(pg.url, name)
    finally:
        if created_space:
            pg.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            pg.execute(f"DROP TABLESPACE IF EXISTS {space}")
        if mounted:
            unmount(mountpoint)
        mountpoint.rmdir()
