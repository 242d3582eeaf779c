# The portal and ACME server. Build: docker compose build. Data (embedded mode) lives in /app/data.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 NODE_ENV=production
RUN npm i -g pnpm@12.4.2
COPY . .
RUN node scripts/run.mjs build
EXPOSE 3000
CMD ["node", "scripts/run.mjs", "start"]
