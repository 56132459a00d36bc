# syntax=docker/dockerfile:1
#
# statesink in a container: `statesink ingest` by default; any other
# sub-command by passing it (`docker run IMAGE migrate up`).
#
#   docker build -t statesink .
#
# docker-compose.yml builds this image and runs it as the migrate and ingest
# services.

ARG DEBIAN_IMAGE=debian:12-slim

# --- build: the same package script as a developer machine and CI -----------
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN STATESINK_DEPS=build scripts/install-deps.sh \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTATESINK_TESTS=OFF \
 && cmake --build /build \
 && cmake --install /build --prefix /usr/local --strip \
 && /usr/local/bin/statesink version

# --- runtime: the shared libraries the binary links, nothing else -----------
FROM ${DEBIAN_IMAGE} AS runtime
# libmariadb3 also carries the authentication plugins MySQL 8 needs
# (caching_sha2_password); ca-certificates serves mqtts:// and TLS to the
# database when no CA file is given.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libmariadb3 libmosquitto1 libspdlog1.10 libfmt9 libcpp-httplib0.11 libbrotli1 \
      libssl3 zlib1g ca-certificates \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /usr/local/bin/statesink /usr/local/bin/statesink
COPY --from=build /usr/local/share/statesink /usr/local/share/statesink
COPY deploy/docker/healthcheck.sh /usr/local/lib/statesink/healthcheck
# Fails the build when a library the binary needs is missing from the list above.
RUN ! ldd /usr/local/bin/statesink | grep 'not found' \
 && chmod 0755 /usr/local/lib/statesink/healthcheck \
 && useradd --system --user-group --uid 10001 --home-dir /var/lib/statesink --shell /usr/sbin/nologin statesink \
 && install -d -o statesink -g statesink -m 0700 /var/lib/statesink /var/lib/statesink/spool

# The spool holds what the broker delivered but the database has not taken
# yet: keep it on a volume so a new container resumes where the old one was.
# A new named volume takes this directory's owner (the statesink user).
VOLUME /var/lib/statesink
WORKDIR /var/lib/statesink
USER statesink:statesink

ENV STATESINK_SPOOL_DIR=/var/lib/statesink/spool \
    STATESINK_METRICS_ADDR=0.0.0.0:9464
EXPOSE 9464

# /healthz answers 200 while broker and database are connected and the
# backlog drains, 503 with the reason otherwise.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["/usr/local/lib/statesink/healthcheck"]

# statesink stops on SIGTERM: it stops reading, commits what it holds (for up
# to STATESINK_SHUTDOWN_TIMEOUT, 30 s by default) and exits 0. Give it longer
# than that before the SIGKILL: `docker stop -t 40`, or stop_grace_period.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/statesink"]
CMD ["ingest"]
