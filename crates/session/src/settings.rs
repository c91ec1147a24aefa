//! Session settings (GUCs): defaults, SET/SHOW/RESET, and the values
//! reported to clients in ParameterStatus.

use std::collections::BTreeMap;

use freshet_common::io::{TextContext, TimeZone};
use freshet_common::{Error, Result, SqlState};

/// The server version we report: PostgreSQL 15 compatible.
pub const SERVER_VERSION: &str = "15.0";
pub const SERVER_VERSION_NUM: &str = "150000";

/// Settings reported to the client at startup and whenever they change.
pub const REPORTED: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

/// A session's settings; names are case-insensitive (stored lowercase).
#[derive(Clone, Debug)]
pub struct Settings {
    values: BTreeMap<String, String>,
    defaults: BTreeMap<String, String>,
}

fn canonical_name(name: &str) -> String {
    name.to_lowercase()
}

impl Settings {
    /// Defaults for a session of `user`.
    pub fn new(user: &str) -> Settings {
        let mut d = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            d.insert(k.to_lowercase(), v.to_string());
        };
        put("application_name", "");
        put("client_encoding", "UTF8");
        put("DateStyle", "ISO, MDY");
        put("default_transaction_read_only", "off");
        put("default_table_access_method", "heap");
        put("default_transaction_isolation", "read committed");
        put("transaction_isolation", "read committed");
        put("transaction_read_only", "off");
        put("in_hot_standby", "off");
        put("integer_datetimes", "on");
        put("IntervalStyle", "postgres");
        put("is_superuser", "on");
        put("server_encoding", "UTF8");
        put("server_version", SERVER_VERSION);
        put("server_version_num", SERVER_VERSION_NUM);
        put("session_authorization", user);
        put("standard_conforming_strings", "on");
        put("TimeZone", "UTC");
        put("search_path", "\"$user\", public");
        put("extra_float_digits", "1");
        put("max_identifier_length", "63");
        put("max_index_keys", "32");
        put("max_function_args", "100");
        put("lc_collate", "C.UTF-8");
        put("lc_ctype", "C.UTF-8");
        put("lc_messages", "C.UTF-8");
        put("lc_monetary", "C.UTF-8");
        put("lc_numeric", "C.UTF-8");
        put("lc_time", "C.UTF-8");
        put("statement_timeout", "0");
        put("lock_timeout", "0");
        put("idle_in_transaction_session_timeout", "0");
        put("client_min_messages", "notice");
        put("bytea_output", "hex");
        put("synchronous_commit", "on");
        put("max_connections", "1000");
        put("block_size", "8192");
        put("default_text_search_config", "pg_catalog.english");
        put("row_security", "on");
        put("jit", "off");
        put("work_mem", "4MB");
        put("timezone_abbreviations", "Default");
        put("xmloption", "content");
        put("escape_string_warning", "on");
        put("backslash_quote", "safe_encoding");
        put("enable_seqscan", "on");
        Settings { values: d.clone(), defaults: d }
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(&canonical_name(name)).map(String::as_str)
    }

    /// Sets `name` (None = DEFAULT); returns the canonical name if it is a
    /// reported setting (so the wire layer sends ParameterStatus).
    pub fn set(&mut self, name: &str, value: Option<String>) -> Result<Option<&'static str>> {
        let key = canonical_name(name);
        let key = match key.as_str() {
            "time zone" => "timezone".to_string(),
            "names" => "client_encoding".to_string(),
            _ => key,
        };
        let value = match value {
            None => self.defaults.get(&key).cloned().unwrap_or_default(),
            Some(v) => self.validate(&key, v)?,
        };
        if !self.defaults.contains_key(&key) && !key.contains('.') {
            // PostgreSQL rejects unknown parameters; placeholder names with a
            // dot (extension.setting) are allowed.
            return Err(Error::new(
                SqlState::UndefinedObject,
                format!("unrecognized configuration parameter \"{name}\""),
            ));
        }
        self.values.insert(key.clone(), value);
        Ok(REPORTED.iter().find(|r| r.to_lowercase() == key).copied())
    }

    fn validate(&self, key: &str, value: String) -> Result<String> {
        Ok(match key {
            "timezone" => {
                match parse_time_zone(&value)? {
                    // PostgreSQL shows zone names in their canonical spelling.
                    TimeZone::Named(tz) => tz.name().to_string(),
                    _ if value.eq_ignore_ascii_case("utc") => "UTC".to_string(),
                    _ => value,
                }
            }
            "client_encoding" => {
                let v = value.to_uppercase().replace('-', "");
                if v != "UTF8" && v != "UNICODE" && v != "SQL_ASCII" {
                    return Err(Error::new(
                        SqlState::FeatureNotSupported,
                        format!("client encoding \"{value}\" is not supported; Freshet speaks UTF8"),
                    ));
                }
                "UTF8".to_string()
            }
            "datestyle" => {
                if !value.to_uppercase().contains("ISO") {
                    return Err(Error::unsupported(format!("DateStyle \"{value}\" (only ISO)")));
                }
                "ISO, MDY".to_string()
            }
            "intervalstyle" => {
                if value != "postgres" {
                    return Err(Error::unsupported(format!("IntervalStyle \"{value}\" (only postgres)")));
                }
                value
            }
            "extra_float_digits" => {
                value.trim().parse::<i32>().map_err(|_| {
                    Error::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"extra_float_digits\": \"{value}\""))
                })?;
                value
            }
            "transaction_isolation" | "default_transaction_isolation" => value.to_lowercase(),
            _ => value,
        })
    }

    /// Resets every setting (RESET ALL) or one.
    pub fn reset(&mut self, name: Option<&str>) -> Result<Option<&'static str>> {
        match name {
            None => {
                self.values = self.defaults.clone();
                Ok(None)
            }
            Some(n) => self.set(n, None),
        }
    }

    /// Settings for text I/O.
    pub fn text_context(&self) -> TextContext {
        let tz = self.get("timezone").and_then(|v| parse_time_zone(v).ok()).unwrap_or(TimeZone::Utc);
        TextContext { time_zone: tz }
    }

    /// The name/value pairs of the reported settings, as ParameterStatus wants them.
    pub fn reported(&self) -> Vec<(String, String)> {
        REPORTED
            .iter()
            .map(|name| (name.to_string(), self.get(name).unwrap_or("").to_string()))
            .collect()
    }

    /// All settings, for pg_settings and SHOW ALL.
    pub fn all(&self) -> Vec<(String, String)> {
        self.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Parses a `TimeZone` setting (see [`TimeZone::parse_setting`]).
pub fn parse_time_zone(v: &str) -> Result<TimeZone> {
    TimeZone::parse_setting(v).ok_or_else(|| {
        Error::new(SqlState::InvalidParameterValue, format!("invalid value for parameter \"TimeZone\": \"{v}\""))
    })
}
