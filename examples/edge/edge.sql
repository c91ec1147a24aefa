-- The edge box: sensor readings arrive over MQTT, are aggregated here per
-- sensor and minute, and only the aggregates travel upstream.
-- :'broker' and :'upstream_*' are psql variables (see run.sh).

CREATE SOURCE readings (sensor varchar, ts timestamp, temperature double precision)
WITH (connector = 'mqtt', url = :'broker', topic = 'sensors/+/readings', qos = 'at_least_once')
FORMAT PLAIN ENCODE JSON;

CREATE MATERIALIZED VIEW sensor_minutes AS
SELECT sensor, window_start AS minute, count(*) AS readings,
       avg(temperature) AS avg_temperature, max(temperature) AS max_temperature
FROM TUMBLE(readings, ts, INTERVAL '1 minute')
GROUP BY sensor, window_start;

CREATE SINK sensor_minutes_upstream FROM sensor_minutes
WITH (connector = 'postgres', host = :'upstream_host', port = :'upstream_port',
      user = 'root', database = 'dev', table = 'sensor_minutes',
      type = 'upsert', primary_key = 'sensor,minute');
