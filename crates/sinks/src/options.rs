//! Checking a sink's `WITH (...)` options and `FORMAT ... ENCODE ...`
//! clause against RisingWave's names, once at CREATE SINK (errors name the
//! option) and again when a recovered sink starts.

use freshet_common::{Error, Result, SqlState};

use crate::Column;

/// A checked sink definition.
#[derive(Clone, Debug, PartialEq)]
pub struct SinkConfig {
    pub connector: Connector,
    pub sink_type: SinkType,
    /// Positions of the `primary_key` columns in the sink's relation
    /// (empty for an append-only sink without one).
    pub primary_key: Vec<usize>,
}

/// Where the changes go.
#[derive(Clone, Debug, PartialEq)]
pub enum Connector {
    Postgres(PostgresConfig),
    Mqtt(MqttConfig),
    Blackhole,
}

/// How changes are applied to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkType {
    /// Only insertions are sent; deletions (and the old half of updates)
    /// are dropped. Freshet's views all may retract, so RisingWave's
    /// `force_append_only = 'true'` is required (blackhole excepted).
    AppendOnly,
    /// Rows are upserted and deleted by `primary_key`.
    Upsert,
}

/// The `postgres` connector's options (RisingWave's names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub database: String,
    pub schema: String,
    pub table: String,
    /// `ssl.mode` and `ssl.root.cert`.
    pub tls: crate::tls::TlsOptions,
}

/// The `mqtt` connector's options (RisingWave's names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    pub topic: String,
    /// 0 (at most once), 1 (at least once) or 2 (exactly once).
    pub qos: u8,
    pub retain: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_id: Option<String>,
}

const COMMON_OPTIONS: &[&str] = &["connector", "type", "force_append_only", "primary_key"];
const POSTGRES_OPTIONS: &[&str] = &["host", "port", "user", "password", "database", "schema", "table", "ssl.mode", "ssl.root.cert"];
const MQTT_OPTIONS: &[&str] = &["url", "topic", "qos", "retain", "username", "password", "client_id"];

impl SinkConfig {
    /// Checks `options` (keys lower-cased) and the FORMAT clause
    /// `(format, encode, options)` of a sink over a relation with
    /// `columns`. Errors: 0A000 for a connector, format or encoding
    /// Freshet does not have; 22023 for a missing, unknown or invalid
    /// option; 42703 for a `primary_key` column the relation lacks.
    pub fn parse(
        options: &[(String, String)],
        format: Option<&crate::FormatClause>,
        columns: &[Column],
    ) -> Result<SinkConfig> {
        let get = |key: &str| options.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let connector_name = get("connector")
            .ok_or_else(|| invalid("missing option \"connector\" for the sink").with_hint("Add connector = 'postgres', 'mqtt' or 'blackhole' to WITH (...)."))?
            .to_ascii_lowercase();
        let allowed: &[&str] = match connector_name.as_str() {
            "postgres" | "postgresql" => POSTGRES_OPTIONS,
            "mqtt" => MQTT_OPTIONS,
            "blackhole" => &[],
            other => {
                return Err(Error::new(SqlState::FeatureNotSupported, format!("sink connector \"{other}\" is not supported"))
                    .with_hint("Freshet's sinks have the connectors postgres, mqtt and blackhole."))
            }
        };
        for (key, _) in options {
            if !COMMON_OPTIONS.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
                return Err(invalid(format!("unrecognized option \"{key}\" for sink connector \"{connector_name}\"")));
            }
        }
        let mut force_append_only = match get("force_append_only") {
            Some(v) => Some(boolean("force_append_only", v)?),
            None => None,
        };
        if let Some((format_name, encode, format_options)) = format {
            if connector_name != "mqtt" {
                return Err(Error::new(
                    SqlState::FeatureNotSupported,
                    format!("FORMAT ... ENCODE ... for sink connector \"{connector_name}\" is not supported"),
                )
                .with_hint("Only the mqtt connector encodes its messages; leave the FORMAT clause out."));
            }
            if !format_name.eq_ignore_ascii_case("plain") || !encode.eq_ignore_ascii_case("json") {
                return Err(Error::new(
                    SqlState::FeatureNotSupported,
                    format!("sink FORMAT {} ENCODE {} is not supported", format_name.to_uppercase(), encode.to_uppercase()),
                )
                .with_hint("Use FORMAT PLAIN ENCODE JSON."));
            }
            for (key, value) in format_options {
                match key.as_str() {
                    "force_append_only" => force_append_only = Some(boolean("force_append_only", value)?),
                    other => return Err(invalid(format!("unrecognized FORMAT option \"{other}\" for the sink"))),
                }
            }
        }
        let sink_type = match get("type").map(str::to_ascii_lowercase).as_deref() {
            Some("append-only") => SinkType::AppendOnly,
            Some("upsert") => SinkType::Upsert,
            Some(other) => {
                return Err(invalid(format!("invalid value for sink option \"type\": \"{other}\""))
                    .with_hint("The sink types are 'append-only' and 'upsert'."))
            }
            None if matches!(connector_name.as_str(), "mqtt" | "blackhole") => SinkType::AppendOnly,
            None => {
                return Err(invalid(format!("missing option \"type\" for sink connector \"{connector_name}\""))
                    .with_hint("Add type = 'upsert' (with primary_key) or type = 'append-only'."))
            }
        };
        let primary_key = match get("primary_key") {
            Some(list) => primary_key_columns(list, columns)?,
            None => Vec::new(),
        };
        match sink_type {
            SinkType::Upsert if primary_key.is_empty() => {
                return Err(invalid("missing option \"primary_key\" for an upsert sink")
                    .with_hint("Name the columns that identify a row of the relation, e.g. primary_key = 'id'."))
            }
            SinkType::Upsert if force_append_only == Some(true) => {
                return Err(invalid("option \"force_append_only\" conflicts with type = 'upsert'"))
            }
            SinkType::AppendOnly if connector_name != "blackhole" && force_append_only != Some(true) => {
                return Err(invalid("the sink cannot be append-only").with_hint(
                    "A materialized view may delete and update rows. Add force_append_only = 'true' to drop deletions \
                     and send updated rows as insertions, or use type = 'upsert' with primary_key.",
                ))
            }
            _ => {}
        }
        if connector_name == "mqtt" && sink_type == SinkType::Upsert {
            return Err(Error::new(SqlState::FeatureNotSupported, "an upsert sink with connector \"mqtt\" is not supported")
                .with_hint("As in RisingWave, the mqtt sink is append-only: use type = 'append-only', force_append_only = 'true'."));
        }
        let required = |key: &str| -> Result<String> {
            match get(key) {
                Some(v) if !v.trim().is_empty() => Ok(v.to_string()),
                _ => Err(invalid(format!("missing option \"{key}\" for sink connector \"{connector_name}\""))),
            }
        };
        let connector = match connector_name.as_str() {
            "postgres" | "postgresql" => Connector::Postgres(PostgresConfig {
                host: required("host")?,
                port: match get("port") {
                    Some(p) => port("port", p)?,
                    None => 5432,
                },
                user: required("user")?,
                password: get("password").map(str::to_string),
                database: required("database")?,
                schema: get("schema").unwrap_or("public").to_string(),
                table: required("table")?,
                tls: {
                    let mode = match get("ssl.mode") {
                        None => crate::tls::SslMode::Disabled,
                        Some(text) => crate::tls::SslMode::parse(text).ok_or_else(|| {
                            invalid(format!(
                                "invalid value for option \"ssl.mode\": \"{text}\" (disabled, preferred, required, verify-ca or verify-full)"
                            ))
                        })?,
                    };
                    let tls = crate::tls::TlsOptions { mode, root_cert: get("ssl.root.cert").map(str::to_string) };
                    tls.check().map_err(invalid)?;
                    tls
                },
            }),
            "mqtt" => {
                let url = required("url")?;
                let (host, port_number) = mqtt_url(&url)?;
                let qos = match get("qos").map(str::to_ascii_lowercase).as_deref() {
                    None | Some("at_most_once") | Some("0") => 0,
                    Some("at_least_once") | Some("1") => 1,
                    Some("exactly_once") | Some("2") => 2,
                    Some(other) => {
                        return Err(invalid(format!("invalid value for sink option \"qos\": \"{other}\""))
                            .with_hint("Use at_most_once, at_least_once or exactly_once (or 0, 1, 2)."))
                    }
                };
                Connector::Mqtt(MqttConfig {
                    host,
                    port: port_number,
                    topic: required("topic")?,
                    qos,
                    retain: match get("retain") {
                        Some(v) => boolean("retain", v)?,
                        None => false,
                    },
                    username: get("username").map(str::to_string),
                    password: get("password").map(str::to_string),
                    client_id: get("client_id").map(str::to_string),
                })
            }
            _ => Connector::Blackhole,
        };
        Ok(SinkConfig { connector, sink_type, primary_key })
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(SqlState::InvalidParameterValue, message)
}

fn boolean(key: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(invalid(format!("invalid value for sink option \"{key}\": \"{value}\"")).with_hint("Use 'true' or 'false'.")),
    }
}

fn port(key: &str, value: &str) -> Result<u16> {
    value
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| invalid(format!("invalid value for sink option \"{key}\": \"{value}\"")).with_hint("A port is a number from 1 to 65535."))
}

/// `tcp://host:port` (also `mqtt://`, or no scheme); the port defaults to
/// 1883. TLS schemes (`ssl://`, `mqtts://`) are refused.
fn mqtt_url(url: &str) -> Result<(String, u16)> {
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if matches!(scheme.to_ascii_lowercase().as_str(), "tcp" | "mqtt") => rest,
        Some((scheme, _)) => {
            return Err(Error::new(SqlState::FeatureNotSupported, format!("mqtt url scheme \"{scheme}\" is not supported"))
                .with_hint("Use tcp://host:port (TLS is not supported yet)."))
        }
        None => url,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port_text) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if host.is_empty() || host.contains('/') {
        return Err(invalid(format!("invalid value for sink option \"url\": \"{url}\"")).with_hint("Use tcp://host:port."));
    }
    let port_number = match port_text {
        Some(p) => port("url", p)?,
        None => 1883,
    };
    Ok((host.to_string(), port_number))
}

fn primary_key_columns(list: &str, columns: &[Column]) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim) {
        if name.is_empty() {
            return Err(invalid(format!("invalid value for sink option \"primary_key\": \"{list}\"")));
        }
        let Some(i) = columns.iter().position(|c| c.name == name) else {
            return Err(Error::new(SqlState::UndefinedColumn, format!("column \"{name}\" named in sink option \"primary_key\" does not exist")));
        };
        if out.contains(&i) {
            return Err(invalid(format!("column \"{name}\" appears twice in sink option \"primary_key\"")));
        }
        out.push(i);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use freshet_common::DataType;

    fn columns() -> Vec<Column> {
        vec![Column { name: "k".into(), ty: DataType::Int4 }, Column { name: "n".into(), ty: DataType::Int8 }]
    }

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn state(pairs: &[(&str, &str)]) -> &'static str {
        SinkConfig::parse(&opts(pairs), None, &columns()).expect_err("options must be refused").state.code()
    }

    #[test]
    fn postgres_upsert() {
        let config = SinkConfig::parse(
            &opts(&[
                ("connector", "postgres"),
                ("host", "h"),
                ("user", "u"),
                ("database", "d"),
                ("table", "t"),
                ("type", "upsert"),
                ("primary_key", "k"),
            ]),
            None,
            &columns(),
        )
        .expect("valid options");
        assert_eq!(config.primary_key, vec![0]);
        assert_eq!(config.sink_type, SinkType::Upsert);
        let Connector::Postgres(pg) = config.connector else { panic!("postgres") };
        assert_eq!((pg.port, pg.schema.as_str()), (5432, "public"));
    }

    #[test]
    fn refusals() {
        assert_eq!(state(&[("connector", "kafka")]), "0A000");
        assert_eq!(state(&[("type", "upsert")]), "22023");
        assert_eq!(state(&[("connector", "blackhole"), ("bogus", "1")]), "22023");
        assert_eq!(state(&[("connector", "postgres"), ("host", "h"), ("type", "upsert"), ("primary_key", "k")]), "22023");
        assert_eq!(state(&[("connector", "blackhole"), ("type", "upsert"), ("primary_key", "zz")]), "42703");
        assert_eq!(state(&[("connector", "blackhole"), ("type", "upsert")]), "22023");
        assert_eq!(state(&[("connector", "mqtt"), ("url", "tcp://h:1883"), ("topic", "t")]), "22023");
        assert_eq!(
            state(&[("connector", "mqtt"), ("url", "tcp://h:99999"), ("topic", "t"), ("force_append_only", "true")]),
            "22023"
        );
        assert_eq!(state(&[("connector", "mqtt"), ("url", "ssl://h:1"), ("topic", "t"), ("force_append_only", "true")]), "0A000");
    }

    #[test]
    fn mqtt_urls() {
        assert_eq!(mqtt_url("tcp://localhost:1883").expect("valid"), ("localhost".to_string(), 1883));
        assert_eq!(mqtt_url("broker").expect("valid"), ("broker".to_string(), 1883));
    }
}
