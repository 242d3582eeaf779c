# The portal and ACME server. Build: docker compose build. Data (embedded mode) lives in /app/data.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 NODE_ENV=production
# g++, make and python3 build the PKCS#11 binding (pkcs11js); the HSM vendor's library is mounted at run time.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ make python3 && rm -rf /var/lib/apt/lists/* \
  && npm i -g pnpm@12.4.2
COPY . .
RUN node scripts/run.mjs build \
  && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin attested \
  && mkdir -p /app/data && chown -R attested:attested /app/data /app/apps/portal/.next-builds && chmod 0700 /app/data
# Not root: the master key and the embedded database belong to this user alone (Next writes its cache in its build folder).
USER attested
EXPOSE 3000
CMD ["node", "scripts/run.mjs", "start"]
