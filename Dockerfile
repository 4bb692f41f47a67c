# One image for all eight services and the forge CLI (DESIGN §10). Build: docker build -t forge .
# The services run as an unprivileged user; each keeps its SQLite file under /data.
FROM swift:6.2-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev zlib1g-dev libxml2-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Proto Proto
COPY Shared Shared
COPY Services Services
COPY Scripts Scripts
COPY Tests Tests
# Scripts/build-release.sh: static Swift libraries, start-up code laid out together, RELR.
RUN Scripts/build-release.sh \
    && mkdir /out \
    && bin="$(Scripts/build-release.sh --show-bin-path)" \
    && cp "$bin"/forge "$bin"/forge-accounts "$bin"/forge-pipeline "$bin"/forge-orders "$bin"/forge-servicedesk \
          "$bin"/forge-feedback "$bin"/forge-loyalty "$bin"/forge-analytics "$bin"/forge-gateway /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-0 zlib1g libxml2 libstdc++6 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data forge \
    && mkdir -p /data/keys && chown -R forge /data
COPY --from=build /out/ /usr/local/bin/
USER forge
ENV FORGE_LISTEN_HOST=0.0.0.0 \
    FORGE_DATA_DIR=/data \
    FORGE_LOG_FORMAT=json \
    TZ=Asia/Shanghai
WORKDIR /data
CMD ["forge", "--help"]
