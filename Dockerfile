# Annexa: multi-stage build; the runtime image holds only the binary and CA certificates.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Build the dependencies first so that code changes do not rebuild them.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY entity/Cargo.toml entity/Cargo.toml
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src entity/src migration/src benches \
    && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > benches/readiness.rs \
    && echo 'fn main() {}' > benches/webhooks.rs && echo 'fn main() {}' > benches/statements.rs \
    && echo 'fn main() {}' > benches/durability.rs \
    && echo 'fn main() {}' > benches/bom_import.rs \
    && touch src/lib.rs entity/src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --bin annexa \
    && rm -rf src entity/src migration/src benches
COPY . .
RUN touch src/main.rs src/lib.rs entity/src/lib.rs migration/src/lib.rs \
    && cargo build --release --locked --bin annexa

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/annexa --create-home annexa
COPY --from=build /src/target/release/annexa /usr/local/bin/annexa
USER annexa:annexa
WORKDIR /var/lib/annexa
# A fixed mmap threshold makes glibc return Argon2's 9 MiB buffers to the system after
# each login (with the dynamic threshold, a burst of logins kept ~200 MB resident).
ENV ANNEXA_BIND=0.0.0.0:8080 \
    ANNEXA_DATABASE_URL=sqlite:///var/lib/annexa/annexa.db \
    ANNEXA_LOG_FORMAT=json \
    MALLOC_MMAP_THRESHOLD_=131072
EXPOSE 8080
VOLUME ["/var/lib/annexa"]
ENTRYPOINT ["/usr/local/bin/annexa"]
CMD ["serve"]
