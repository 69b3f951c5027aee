# The store's one image: `shopflow api`, `shopflow worker --queue …`, `shopflow migrate` and
# `shopflow seed`, and the emulators (`python -m emulators.…`) all run from it; docker-compose.yml
# gives each service its command. Build context: this work tree, less .dockerignore.

# Build: the project and its dependencies into a virtualenv, which is all the image takes along.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY . .
RUN python -m venv /opt/shopflow \
    && /opt/shopflow/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/shopflow/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 shopflow \
    && useradd --system --uid 10001 --gid shopflow --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin shopflow
COPY --from=build /opt/shopflow /opt/shopflow
WORKDIR /srv/shopflow
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["shopflow"]
CMD ["api"]
