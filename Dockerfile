# graphgate: a static binary on a distroless base, running as non-root.
#   docker build -t graphgate .
#   docker run -p 8080:8080 -e GRAPHGATE_BASE_URL=https://graphgate.example.com \
#     -e GRAPHGATE_ENCRYPTION_KEY_FILE=/run/secrets/encryption_key ... graphgate
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X graphgate/internal/version.Version=${VERSION}" -o /out/graphgate ./cmd/graphgate \
 && mkdir -p /out/data

# distroless/static: CA certificates, /etc/passwd with the nonroot user, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/graphgate /graphgate
COPY --from=build --chown=65532:65532 --chmod=700 /out/data /data
USER 65532:65532
ENV GRAPHGATE_ADDR=:8080 \
    GRAPHGATE_DATA_DIR=/data \
    GRAPHGATE_ENV=production
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["/graphgate", "healthcheck"]
ENTRYPOINT ["/graphgate"]
CMD ["serve"]
