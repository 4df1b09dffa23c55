# The images built from this repository, one per workspace: the three services
# and the traffic generator. The build argument WORKSPACE names the workspace; the
# target is `service` (the default) or `traffic-gen`. Build from the repository
# root (the npm workspace):
#   docker build --build-arg WORKSPACE=die-service --build-arg PORT=8103 -t dice-roller/die-service .
#   docker build --build-arg WORKSPACE=traffic-gen --target traffic-gen -t dice-roller/traffic-gen .
# or let `docker compose up --build` do it (docker-compose.yml gives both for each).

# Node.js 24 LTS on Debian 13 (trixie), slim variant; every stage uses the same image.
ARG NODE_IMAGE=node:24.19.0-trixie-slim

# ---- manifests: every workspace's package.json, the base of the two stages below ----
# npm ci needs every workspace's package.json that the lockfile names; copied
# first, so the dependency layers are reused until a manifest or the lockfile changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY telemetry/package.json telemetry/
COPY fault-lab/package.json fault-lab/
COPY die-service/package.json die-service/
COPY dice-roller/package.json dice-roller/
COPY frontend/package.json frontend/
COPY traffic-gen/package.json traffic-gen/

# ---- build: install the whole workspace (TypeScript included) and compile ----
FROM manifests AS build
ARG WORKSPACE
RUN test -n "$WORKSPACE" || { echo "--build-arg WORKSPACE=<die-service|dice-roller|frontend|traffic-gen> is required" >&2; exit 1; }
RUN npm ci --no-audit --no-fund
# Every workspace's sources (.dockerignore keeps tests and build output out).
COPY . .
# Compiles the workspace and those it references (telemetry, the clients it calls).
RUN npx tsc --build "$WORKSPACE"
# What the image needs of each compiled workspace: all of it but the TypeScript.
RUN mkdir /out && for built in */dist; do \
      workspace="${built%/dist}"; mkdir "/out/$workspace"; \
      tar -C "$workspace" --exclude=./src --exclude='./tsconfig*' -cf - . | tar -C "/out/$workspace" -xf -; \
    done

# ---- runtime: production dependencies and compiled JavaScript only ----
FROM manifests AS runtime
ARG WORKSPACE
ENV NODE_ENV=production
RUN npm ci --omit=dev --workspace "$WORKSPACE" --no-audit --no-fund && npm cache clean --force
COPY --from=build /out/ ./
# Files stay owned by root: the process can read them, not change them.
USER node
WORKDIR /app/${WORKSPACE}

# ---- the traffic generator: a command line, options after the image name ----
FROM runtime AS traffic-gen
# Logs go to stderr, so stdout carries only the run's results.
ENV LOG_STREAM=stderr
# Exec form, so node receives SIGINT/SIGTERM itself; run it with an init process
# (compose `init: true`, `docker run --init`).
ENTRYPOINT ["node", "--require", "@dice-roller/telemetry/register", "dist/cli.js"]

# ---- a service: die-service, dice-roller or frontend ----
FROM runtime AS service
# The port the service listens on (its default in the code), for EXPOSE and the healthcheck.
ARG PORT
RUN test -n "$PORT" || { echo "--build-arg PORT=<the service's port> is required" >&2; exit 1; }
ENV PORT=${PORT}
EXPOSE ${PORT}
# The fault lab's flag file, every fault off; docker-compose.yml mounts ./flags over it.
COPY flags/faults.flagd.json /app/flags/
# The image has no curl; Node's own fetch probes the liveness endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node itself receives SIGTERM (npm would not pass it on) and shuts
# down gracefully. Run with an init process (compose `init: true`, `docker run
# --init`) so that signals and orphaned processes are handled as on a host.
# The same command as `npm start` (the README, "Performance", says why the two heap flags).
CMD ["node", "--max-semi-space-size=16", "--max-old-space-size=96", "--require", "@dice-roller/telemetry/register", "dist/server.js"]
