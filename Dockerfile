# mcpload as a container image: a static binary on an empty base, run as a
# non-root user. Build it from a clone:
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t mcpload .
#   docker run --rm -v "$PWD/results:/work/results" mcpload run quickstart
#
# The build stage is the command cmd/mcpload/dockerfile_test.go runs.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.buildVersion=${VERSION}" -o /out/mcpload ./cmd/mcpload
# The working directory the run folders go to, owned by the user that runs.
RUN mkdir -p /out/work/results && chown -R 65532:65532 /out/work

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/mcpload /mcpload
COPY --from=build --chown=65532:65532 /out/work /work
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["/mcpload"]
CMD ["--help"]
