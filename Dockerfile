# syntax=docker/dockerfile:1
#
# One image for all six Parley services; the command picks the service:
#   docker build -t ghcr.io/parley-chat/parley:TAG .
#   docker run --rm ghcr.io/parley-chat/parley:TAG services/auth/dist/main.js
# Kubernetes sets command ["node"] and args ["services/<name>/dist/main.js"] (see k8s/), and
# ["services/<name>/dist/main.js", "migrate"] in the init container that migrates its database.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install everything, compile every project -------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true \
    NX_DAEMON=false \
    NX_NO_CLOUD=true
COPY . .
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
# k8s/ is left out of the context (.dockerignore), so its kubectl-based targets are not run.
RUN npx nx run-many -t build --skip-nx-cache

# ---- runtime: production dependencies and compiled output only ----------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Copy and prune in one step, so that no layer keeps the dev dependencies: the manifests and
# node_modules, then each workspace's package.json and dist/ (node_modules/@parley/* link there),
# and moderation's default auto-moderation rules, which it reads beside its dist/.
RUN --mount=type=bind,from=build,source=/app,target=/build \
    set -eu; \
    cp -a /build/package.json /build/package-lock.json /build/node_modules ./; \
    for ws in /build/libs/*/ /build/services/*/ /build/e2e/; do \
      [ -f "${ws}package.json" ] || continue; \
      dest="${ws#/build/}"; \
      mkdir -p "$dest"; \
      cp -a "${ws}package.json" "$dest"; \
      if [ -d "${ws}dist" ]; then cp -a "${ws}dist" "$dest"; fi; \
    done; \
    cp -a /build/services/moderation/auto-moderation.json services/moderation/; \
    npm prune --omit=dev --no-audit --no-fund; \
    rm -rf /root/.npm /tmp/*
# The image's "node" user (uid 1000), numeric so that Kubernetes runAsNonRoot can verify it.
# The app files stay owned by root: the service cannot modify its own code.
USER 1000:1000
# 50051 internal gRPC, 9090 metrics and health, 8080 the edge's public API.
EXPOSE 50051 9090 8080
ENTRYPOINT ["node"]
CMD ["services/edge/dist/main.js"]
