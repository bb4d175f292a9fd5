# The tunnel CLI in a container: `docker build -t tunnel:0.1.0 .` from the repository root.
# The build stage fetches the CLI's npm dependencies into DENO_DIR, checked against
# deno.lock; the runtime stage is Deno's distroless image, runs as a non-root user, reads
# only /etc/tunnel and fetches nothing. tests/e2e/container_image_test.ts runs these
# steps without Docker and keeps the flags equal to the README's forwarding set.

FROM denoland/deno:2.9.6 AS build
WORKDIR /app
COPY deno.json deno.lock ./
COPY cli/ cli/
COPY core/ core/
COPY container-deploy/cache_cli.sh container-deploy/image_lockfile.ts /build/
# `deno cache --frozen cli/main.ts`, after cutting deno.json and deno.lock down to the
# packages the CLI loads (see cache_cli.sh).
RUN sh /build/cache_cli.sh

FROM denoland/deno:distroless-2.9.6
COPY --from=build /deno-dir/ /deno-dir/
COPY --from=build /app/ /app/
WORKDIR /app
ENV DENO_NO_UPDATE_CHECK=1
# The `deno` user of Deno's images (distroless has no user database, hence numbers).
USER 1993:1993
# Keys, token files and server.toml are mounted in /etc/tunnel; nothing else is read and
# nothing is written. tunnel stops cleanly on SIGTERM (docker stop, Kubernetes).
ENTRYPOINT ["/tini", "--", "/bin/deno", "run", "--cached-only", "--frozen", "--no-prompt", "--config=/app/deno.json", "--unstable-net", "--allow-net", "--allow-env=HOME,XDG_CONFIG_HOME,TUNNEL_LOG,TUNNEL_AUTH_TOKEN,TUNNEL_AUTH_TOKENS,TUNNEL_RELAY_TOKEN", "--ignore-env", "--allow-sys=networkInterfaces", "--allow-read=/etc/tunnel", "/app/cli/main.ts"]
CMD ["--help"]
