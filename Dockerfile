# syntax=docker/dockerfile:1

# Build: cgo on, so the librdkafka client (linked statically by
# confluent-kafka-go on glibc) is available beside the default pure-Go one.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN make build VERSION=${VERSION}

# Run: a small glibc image, as a non-root user.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/bin/weir /usr/local/bin/weir
USER nonroot:nonroot
EXPOSE 6065
ENTRYPOINT ["weir"]
CMD ["run", "/etc/weir"]
