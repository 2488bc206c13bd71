# syntax=docker/dockerfile:1
# One image for the producer, the consumer and the load generator; compose.yaml picks
# the service with its command (`deno task producer|consumer|load`).
ARG DENO_VERSION=2.9.6
FROM denoland/deno:debian-${DENO_VERSION}

ENV DENO_NO_UPDATE_CHECK=1 \
    DENO_NO_PROMPT=1

WORKDIR /app
# The consumer's state directory exists in the image so a named volume mounted there
# starts out owned by the unprivileged user.
RUN mkdir -p /app/.data/consumer-state && chown -R deno:deno /app

# The official image provides an unprivileged `deno` user (uid 1993) owning DENO_DIR.
USER deno

# Dependencies first, so source edits do not invalidate the dependency layer.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno shared/deno.json shared/
COPY --chown=deno:deno lag/deno.json lag/
COPY --chown=deno:deno producer/deno.json producer/
COPY --chown=deno:deno consumer/deno.json consumer/
COPY --chown=deno:deno kafka/deno.json kafka/
COPY --chown=deno:deno loadgen/deno.json loadgen/
COPY --chown=deno:deno jaeger/deno.json jaeger/
COPY --chown=deno:deno stack/deno.json stack/
COPY --chown=deno:deno testing/deno.json testing/
RUN deno install --frozen

COPY --chown=deno:deno . .
RUN deno cache --frozen producer/main.ts consumer/main.ts loadgen/main.ts

EXPOSE 8000 8001
CMD ["deno", "task", "producer"]
