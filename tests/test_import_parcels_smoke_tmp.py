from pathlib import Path
import subprocess
from sqlalchemy import text
from app.services.imports.service import ImportOptions, start_import, run_import, ImportRejected
from app.domain.roles import Principal, Role
from tests.server import SavepointEngine
import pytest

def imp(conn, settings, path, **kw):
    eng = SavepointEngine(conn)
    admin = Principal(Role.ADMIN, None, "pytest-admin")
    opts = ImportOptions(**kw)
    iid = start_import(eng, admin, path.name, path.stat().st_size, opts)
    try:
        return run_import(eng, admin, path, path.name, opts, settings, iid)
    except ImportRejected as e:
        return e.outcome
    finally:
        for (t,) in conn.execute(text("select relname from pg_class where relnamespace = pg_my_temp_schema() and relkind='r'")).all():
            conn.execute(text(f'drop table if exists "{t}" cascade'))

@pytest.mark.parametrize("fmt", ["gpkg", "shp.zip", "csv", "xlsx", "fgb"])
def test_rt(clients, conn, settings, tmp_path, fmt):
    r = clients["admin"].get(f"/exports/parcels.{fmt}", crs="EPSG:25832")
    assert r.status_code == 200, r.text
    name = r.headers["content-disposition"].split('"')[1]
    p = tmp_path / name
    p.write_bytes(r.content)
    print(name, len(r.content))
    kw = {"crs_srid": 25832} if fmt in ("csv", "xlsx") else {}
    out = imp(conn, settings, p, dry_run=True, **kw)
    print(out.counts, out.columns)
    for pr in out.problems[:10]: print(pr)
    print(conn.execute(text("select action, count(*) from import_rows where import_id=:i group by 1"), {"i": out.import_id}).all())
    if fmt == "gpkg":
        gj = tmp_path / "p.geojson"
        subprocess.run(["ogr2ogr", "-t_srs", "EPSG:4326", "-lco", "RFC7946=YES", str(gj), str(p)], check=True)
        out = imp(conn, settings, gj, dry_run=True)
        print("geojson", out.counts)
        for pr in out.problems[:10]: print(pr)
        print(conn.execute(text("select action, count(*) from import_rows where import_id=:i group by 1"), {"i": out.import_id}).all())
