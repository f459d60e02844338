# The redline CLI as a container image, for `redline k8s` (docs/distributed.md).
#   docker build -t redline:latest .
#   docker run --rm redline:latest run --url http://host.docker.internal:8080 --rate 100
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund && npm run build

FROM node:20-bookworm-slim
WORKDIR /app
# The workspace with its built packages; ioredis (the coordinator's client) comes with it.
COPY --from=build /src /app
RUN mkdir -p /results && chown node:node /results
USER node
ENTRYPOINT ["node", "/app/packages/cli/bin/redline.js"]
