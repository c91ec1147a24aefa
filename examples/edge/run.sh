#!/usr/bin/env bash
# Runs the edge example on one machine: an MQTT broker, an upstream Freshet
# (port 4567) and an edge Freshet (port 4566) that aggregates the readings
# published to the broker and forwards the aggregates upstream. Publishes a
# few readings, then shows both sides. Needs mosquitto and mosquitto_pub
# (Debian: mosquitto, mosquitto-clients), psql, and a built freshet
# (cargo build --release).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
freshet=${FRESHET_BIN:-$repo/target/release/freshet}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

/usr/sbin/mosquitto -p 1883 >"$work/mosquitto.log" 2>&1 &
"$freshet" serve --data-dir "$work/upstream" --listen 127.0.0.1:4567 2>"$work/upstream.log" &
"$freshet" serve --data-dir "$work/edge" --listen 127.0.0.1:4566 2>"$work/edge.log" &
for port in 4567 4566; do
    until psql -h 127.0.0.1 -p "$port" -U root -d dev -Xqc 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
done

psql -h 127.0.0.1 -p 4567 -U root -d dev -X -f "$here/upstream.sql"
psql -h 127.0.0.1 -p 4566 -U root -d dev -X -v broker=tcp://127.0.0.1:1883 \
    -v upstream_host=127.0.0.1 -v upstream_port=4567 -f "$here/edge.sql"

for i in $(seq 1 20); do
    sensor="s$((i % 3))"
    mosquitto_pub -p 1883 -t "sensors/$sensor/readings" \
        -m "{\"sensor\": \"$sensor\", \"ts\": \"2026-12-06 12:0$((i % 4)):00\", \"temperature\": $((15 + i))}"
done
sleep 2
echo "--- edge: sensor_minutes"
psql -h 127.0.0.1 -p 4566 -U root -d dev -X -c 'SELECT * FROM sensor_minutes ORDER BY 1, 2'
echo "--- upstream: hottest_sensors"
psql -h 127.0.0.1 -p 4567 -U root -d dev -X -c 'SELECT * FROM hottest_sensors ORDER BY 1'
