-- The upstream Freshet: one table that every edge box's sink keeps equal
-- to its local aggregates, and a view across all sensors.
CREATE TABLE sensor_minutes (
    sensor varchar, minute timestamp, readings bigint,
    avg_temperature double precision, max_temperature double precision,
    PRIMARY KEY (sensor, minute)
);
CREATE MATERIALIZED VIEW hottest_sensors AS
SELECT sensor, max(max_temperature) AS max_temperature, sum(readings) AS readings
FROM sensor_minutes GROUP BY sensor;
