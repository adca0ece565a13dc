# syntax=docker/dockerfile:1
# Production image: gunicorn serves the app, whitenoise the collected static files.
# The same image runs the Celery worker and beat (see docker-compose.yml).

# --- Front-end packages: only node_modules/@antv and the bundle (npm run build, with the
# development packages) are kept, both served through STATICFILES_DIRS.
FROM node:20-bookworm-slim AS node
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/systemmaps/editor ./static/systemmaps/editor
RUN npm run -s build

# --- The application.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATICFILES_BACKEND=hourglass.storage.ManifestStaticFilesStorage

# Graphviz's `dot` lays out and exports system maps; gettext compiles the catalogues.
RUN apt-get update \
    && apt-get install -y --no-install-recommends graphviz gettext fonts-dejavu-core fonts-nanum \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
COPY --from=node /build/node_modules/@antv ./node_modules/@antv
COPY --from=node /build/var/build ./var/build

# Static files are collected once, at build time, with hashed names for long caching.
RUN DEBUG=0 SECRET_KEY=build-only EMAIL_URL=dummymail:// python manage.py collectstatic --noinput \
    && python manage.py compilemessages --ignore=node_modules \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hourglass \
    && mkdir -p var \
    && chown hourglass var

USER hourglass
EXPOSE 8000
CMD ["gunicorn", "hourglass.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
