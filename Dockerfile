# The redline CLI as a container image, for `redline k8s` (docs/distributed.md).
#   docker build -t REGISTRY/redline:TAG .
#   docker run --rm REGISTRY/redline:TAG run --url http://host.docker.internal:8080 --rate 100
# Not built in CI (there is no container runtime there): packages/cli/test/dockerfile.test.ts checks
# what can be checked without building it (the files it copies, the entry point, the layout below).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
# npm ci runs the root `prepare` script (tsc -b of every package); the build after it is a no-op
# unless scripts were disabled.
RUN npm ci --no-audit --no-fund && npm run build

FROM node:20-bookworm-slim
WORKDIR /app
# The workspace with its built packages; ioredis (the coordinator's client) comes with it.
COPY --from=build /src /app
# Scenario files live outside /app (the ConfigMap at /scenario): their imports of @redline/load
# resolve by Node walking up to /node_modules. Run directories go to /results (redline k8s mounts a
# volume there).
RUN ln -s /app/node_modules /node_modules && mkdir -p /results && chown node:node /results
USER node
ENTRYPOINT ["node", "/app/packages/cli/bin/redline.js"]
