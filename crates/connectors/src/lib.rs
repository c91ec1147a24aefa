//! Source connectors: the external I/O that brings rows into Freshet.
//!
//! This crate owns what a source connector is, independent of the catalog
//! and the commit path:
//! - checking a `CREATE SOURCE` / `CREATE TABLE ... WITH (connector = ...)`
//!   definition against the columns it fills, with PostgreSQL-style errors
//!   (22023 for a bad option value or an unknown option, 0A000 for an
//!   unsupported connector, format or column type) — [`ConnectorSpec`];
//! - the `datagen` generator (RisingWave's options), which computes row `n`
//!   from the definition alone, so a restart resumes at the next row —
//!   [`datagen::DatagenSpec`];
//! - the `mqtt` client (rumqttc on tokio), which subscribes, reconnects
//!   after a broker loss and hands each message's payload on —
//!   [`mqtt::run`];
//! - decoding a JSON message into a row of the source's columns —
//!   [`json::JsonDecoder`].
//!
//! It deliberately does not own when connectors run, how their rows are
//! committed or where their progress is stored: `freshet-session`'s
//! `sources` module drives them through the normal commit path.

pub mod datagen;
pub mod json;
pub mod mqtt;

use freshet_common::{DataType, Error, Result, SqlState};

/// A checked connector definition, ready to run.
#[derive(Clone, Debug)]
pub enum ConnectorSpec {
    /// `connector = 'datagen'`.
    Datagen(datagen::DatagenSpec),
    /// `connector = 'mqtt'` (with `FORMAT PLAIN ENCODE JSON`).
    Mqtt(mqtt::MqttSpec),
}

/// The name and type of one column a connector fills, in table order.
pub type ColumnSpec = (String, DataType);

/// `FORMAT f ENCODE e`, both lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// `plain`, `upsert`, `debezium`, ...
    pub format: String,
    /// `json`, `avro`, ...
    pub encode: String,
}

impl ConnectorSpec {
    /// Checks a definition: `options` are the WITH options (keys
    /// lower-cased, `connector` among them), `format` the FORMAT clause.
    pub fn parse(
        options: &[(String, String)],
        format: Option<&Format>,
        columns: &[ColumnSpec],
    ) -> Result<ConnectorSpec> {
        let connector = options
            .iter()
            .rev()
            .find(|(k, _)| k == "connector")
            .map(|(_, v)| v.to_lowercase())
            .ok_or_else(|| {
                Error::new(
                    SqlState::InvalidParameterValue,
                    "missing option \"connector\"",
                )
            })?;
        if columns.is_empty() {
            return Err(Error::new(
                SqlState::InvalidParameterValue,
                "a source needs at least one column",
            )
            .with_hint("List the columns, as in CREATE SOURCE s (id int, v text) WITH (...)."));
        }
        match connector.as_str() {
            "datagen" => {
                check_format(format, &["json"], "datagen")?;
                Ok(ConnectorSpec::Datagen(datagen::DatagenSpec::parse(
                    options, columns,
                )?))
            }
            "mqtt" => {
                let Some(format) = format else {
                    return Err(Error::new(
                        SqlState::InvalidParameterValue,
                        "connector \"mqtt\" needs FORMAT PLAIN ENCODE JSON",
                    ));
                };
                check_format(Some(format), &["json"], "mqtt")?;
                for (_, ty) in columns {
                    json::check_type(ty)?;
                }
                Ok(ConnectorSpec::Mqtt(mqtt::MqttSpec::parse(options)?))
            }
            other => Err(Error::new(
                SqlState::FeatureNotSupported,
                format!("connector \"{other}\" is not supported"),
            )
            .with_hint("The supported connectors are datagen and mqtt.")),
        }
    }

    /// The connector's name (`datagen`, `mqtt`).
    pub fn name(&self) -> &'static str {
        match self {
            ConnectorSpec::Datagen(_) => "datagen",
            ConnectorSpec::Mqtt(_) => "mqtt",
        }
    }
}

/// Only `FORMAT PLAIN ENCODE <one of encodes>` (or none, where allowed).
fn check_format(format: Option<&Format>, encodes: &[&str], connector: &str) -> Result<()> {
    let Some(f) = format else { return Ok(()) };
    if f.format != "plain" || !encodes.contains(&f.encode.as_str()) {
        return Err(Error::new(
            SqlState::FeatureNotSupported,
            format!(
                "FORMAT {} ENCODE {} is not supported for connector \"{connector}\"",
                f.format.to_uppercase(),
                f.encode.to_uppercase()
            ),
        )
        .with_hint("Use FORMAT PLAIN ENCODE JSON."));
    }
    Ok(())
}

/// A 22023 error for an option whose value is not valid.
pub(crate) fn bad_value(key: &str, value: &str, expected: &str) -> Error {
    Error::new(
        SqlState::InvalidParameterValue,
        format!("invalid value for option \"{key}\": \"{value}\""),
    )
    .with_detail(format!("Expected {expected}."))
}

/// A 22023 error for an option the connector does not know.
pub(crate) fn unknown_option(connector: &str, key: &str) -> Error {
    Error::new(
        SqlState::InvalidParameterValue,
        format!("unrecognized option \"{key}\" for connector \"{connector}\""),
    )
}

/// The last value of `key` in `options`.
pub(crate) fn option<'a>(options: &'a [(String, String)], key: &str) -> Option<&'a str> {
    options
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}
