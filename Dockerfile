# One image for the worker, the CLI and the demo shop.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/gameday ./cmd/gameday

FROM gcr.io/distroless/static-debian12
COPY --from=build /out/gameday /usr/local/bin/gameday
ENTRYPOINT ["/usr/local/bin/gameday"]
