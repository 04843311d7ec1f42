# GEFIS-MD application image (used by the "app" and "scheduler" services of
# docker-compose.yml). GEOS and PROJ come with the binary wheels of shapely and
# pyproj, so no system GIS packages are needed. Only [project] dependencies are
# installed: not the `demo` extra (rasterio/GDAL for the demo-data generator in
# tools/, which the service never runs).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Headless Chromium prints reports and site profiles to PDF (app/services/render/pdf.py);
# DejaVu is the font the page templates use.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, read from pyproject.toml, so this layer is cached until
# the dependency list changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The web map's browser packages (MapLibre GL JS, Chart.js) from npm, pinned by the lock
# file; Node.js is needed only for `npm ci` and removed again (the service serves the files).
COPY web/package.json web/package-lock.json ./web/
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && (cd web && npm ci --omit=dev --no-audit --no-fund) \
    && apt-get purge -y nodejs npm && apt-get autoremove -y \
    && rm -rf /var/lib/apt/lists/* /root/.npm

# The project itself (editable, so app code finds migrations/, geodata/ and
# scripts/ next to it in /app).
COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --user-group --create-home --home-dir /home/gefis gefis \
    && mkdir -p /app/reports \
    && chown gefis:gefis /app/reports

USER gefis
EXPOSE 8000

CMD ["sh", "-c", "python -m app.cli migrate && python -m app.cli load-demo --if-empty && exec uvicorn app.main:app --host 0.0.0.0 --port 8000"]
