# syntax=docker/dockerfile:1
# One image for every role: the gateway by default (`node dist/server.js`), the queue workers with
# `node dist/worker.js`, operator commands with `node dist/cli.js <command>` (e.g. `migrate`).

# Shared by every stage. onnxruntime-node's install script would otherwise fetch GPU files from a
# host that may be unreachable; the CPU binaries ship inside the package.
FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Native addons (bufferutil, utf-8-validate, keccak, secp256k1) ship prebuilt binaries for
# linux-x64 only; on arm64 node-gyp compiles them, so the install stages carry a toolchain that
# never reaches the runtime image.
FROM base AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./

# All dependencies, then the TypeScript build.
FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The web app (npm ci's prepare step ran before web/ was here): built into web/dist, served at /.
COPY web ./web
RUN npm run build:web

# Production dependencies only, installed apart so the runtime stage has neither the toolchain nor
# the npm cache.
FROM toolchain AS prod-deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev

FROM base AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    POSTHUMAN_DATA_DIR=/data
# Code and dependencies stay owned by root (read-only to the app); only the data dir, the model
# folder and ./.posthuman (the default home of cwd-relative paths such as the tiny model) are
# writable by the unprivileged `node` user (uid 1000).
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY migrations ./migrations
# The bundled English default model (npm run model:train-default); the embedded default serves it.
COPY models ./models
# /data/weights and /chain-public exist here so the volumes compose mounts there start owned by `node`.
RUN mkdir -p /data/weights /chain-public /app/models /app/.posthuman \
 && chown node:node /data /data/weights /chain-public /app/models /app/.posthuman
USER node
EXPOSE 8080
# slim has no curl: Node's own fetch asks the gateway whether it is alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/server.js"]
