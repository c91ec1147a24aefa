//! The `mqtt` connector: subscribes to a topic filter on an MQTT broker
//! (protocol 3.1.1, rumqttc on tokio) and hands every message's payload to
//! the driver.
//!
//! Options (RisingWave's): `url` (`tcp://host:port` or `mqtt://host:port`;
//! TLS URLs are refused), `topic` (wildcards `+` and `#` allowed), `qos`
//! (`at_most_once` (default), `at_least_once`, `exactly_once`), and the
//! optional `username`, `password`, `client_prefix` (default
//! `freshet`) and `clean_start` (default false).
//!
//! Delivery: the client acknowledges a message when it receives it, before
//! the driver commits it, and MQTT has no offsets to resume from, so
//! messages published while the source is not connected (server down,
//! broker unreachable) are lost unless the broker queues them for a
//! persistent session (`clean_start = false` with QoS 1 or 2 and a stable
//! client id, which `client_prefix` plus the source's OID gives). After a
//! broker loss the client reconnects with a growing delay (up to 5 s)
//! and subscribes again.

use std::time::Duration;

use freshet_common::{Error, Result, SqlState};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::{bad_value, option, unknown_option};

/// Largest message accepted. A bigger one breaks the broker connection
/// (rumqttc refuses the packet); the client reconnects, and the message
/// is gone unless the broker redelivers it to a persistent session, which
/// then fails the same way each time: keep messages below this size.
pub const MESSAGE_BYTES_MAX: usize = 8 << 20;

/// A checked mqtt definition.
#[derive(Clone, Debug)]
pub struct MqttSpec {
    /// The broker's host, from `url`.
    pub host: String,
    /// The broker's port, from `url` (1883 when left out).
    pub port: u16,
    /// The topic filter subscribed to.
    pub topic: String,
    /// The subscription's quality of service.
    pub qos: QoS,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The client id is `<client_prefix>-<table oid>` (plus a unique
    /// suffix for a clean session).
    pub client_prefix: String,
    /// Start a clean session (the broker forgets queued messages).
    pub clean_start: bool,
}

const OPTIONS: &[&str] = &[
    "connector",
    "url",
    "topic",
    "qos",
    "username",
    "password",
    "client_prefix",
    "clean_start",
];

impl MqttSpec {
    /// Checks the options (see the module comment).
    pub fn parse(options: &[(String, String)]) -> Result<MqttSpec> {
        for (key, _) in options {
            if !OPTIONS.contains(&key.as_str()) {
                return Err(unknown_option("mqtt", key));
            }
        }
        let url = option(options, "url").ok_or_else(|| missing("url"))?;
        let (host, port) = parse_url(url)?;
        let topic = option(options, "topic")
            .ok_or_else(|| missing("topic"))?
            .to_string();
        if topic.is_empty() || topic.contains('\0') {
            return Err(bad_value(
                "topic",
                &topic,
                "a topic filter such as 'sensors/+/temperature'",
            ));
        }
        let qos = match option(options, "qos").map(str::to_lowercase).as_deref() {
            None | Some("at_most_once") | Some("0") => QoS::AtMostOnce,
            Some("at_least_once") | Some("1") => QoS::AtLeastOnce,
            Some("exactly_once") | Some("2") => QoS::ExactlyOnce,
            Some(other) => {
                return Err(bad_value(
                    "qos",
                    other,
                    "at_most_once, at_least_once or exactly_once",
                ))
            }
        };
        let clean_start = match option(options, "clean_start")
            .map(str::to_lowercase)
            .as_deref()
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(bad_value("clean_start", other, "true or false")),
        };
        let username = option(options, "username").map(str::to_string);
        let password = option(options, "password").map(str::to_string);
        if password.is_some() && username.is_none() {
            return Err(Error::new(
                SqlState::InvalidParameterValue,
                "option \"password\" needs option \"username\"",
            ));
        }
        let client_prefix = option(options, "client_prefix")
            .unwrap_or("freshet")
            .to_string();
        Ok(MqttSpec {
            host,
            port,
            topic,
            qos,
            username,
            password,
            client_prefix,
            clean_start,
        })
    }
}

fn missing(key: &str) -> Error {
    Error::new(
        SqlState::InvalidParameterValue,
        format!("connector \"mqtt\" needs option \"{key}\""),
    )
}

/// `tcp://host:port`, `mqtt://host:port` or `host:port` (port 1883 when
/// left out).
fn parse_url(url: &str) -> Result<(String, u16)> {
    let expected = "a URL such as 'tcp://localhost:1883'";
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if matches!(scheme.to_lowercase().as_str(), "tcp" | "mqtt") => rest,
        Some((scheme, _)) => {
            return Err(Error::new(
                SqlState::FeatureNotSupported,
                format!("MQTT URL scheme \"{scheme}\" is not supported"),
            )
            .with_hint("Use tcp://host:port; TLS and WebSocket brokers are not supported."))
        }
        None => url,
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (
            host,
            port.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| bad_value("url", url, expected))?,
        ),
        None => (rest, 1883),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains('/') || host.contains('@') {
        return Err(bad_value("url", url, expected));
    }
    Ok((host.to_string(), port))
}

/// The connection's state, reported to `run`'s caller as it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connected and subscribed (the subscription was sent).
    Connected,
    /// The connection failed or was lost, with why; a retry is pending.
    Reconnecting(String),
}

/// Connects as `client_id`, subscribes and sends every message's payload
/// to `payloads` until `payloads` is closed (the source was dropped).
/// Never returns an error: a lost or refused connection is logged,
/// reported through `on_state` and retried.
pub async fn run(
    spec: MqttSpec,
    client_id: String,
    payloads: mpsc::Sender<Vec<u8>>,
    source: String,
    on_state: impl Fn(ConnectionState) + Send + 'static,
) {
    let mut options = MqttOptions::new(client_id.clone(), spec.host.clone(), spec.port);
    options.set_keep_alive(Duration::from_secs(10));
    options.set_clean_session(spec.clean_start);
    options.set_max_packet_size(MESSAGE_BYTES_MAX, MESSAGE_BYTES_MAX);
    if let Some(user) = &spec.username {
        options.set_credentials(user.clone(), spec.password.clone().unwrap_or_default());
    }
    let (client, mut eventloop) = AsyncClient::new(options, 64);
    let mut delay = Duration::from_millis(100);
    loop {
        let event = tokio::select! {
            event = eventloop.poll() => event,
            _ = payloads.closed() => break,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                delay = Duration::from_millis(100);
                info!(source = %source, host = %spec.host, port = spec.port, topic = %spec.topic, client_id = %client_id, "mqtt source connected");
                on_state(ConnectionState::Connected);
                // A clean session forgets subscriptions: subscribe on every connect.
                if let Err(e) = client.try_subscribe(spec.topic.clone(), spec.qos) {
                    warn!(source = %source, error = %e, "mqtt source cannot subscribe");
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                {
                    warn!(source = %source, topic = %spec.topic, "mqtt broker refused the subscription");
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if payloads.send(publish.payload.to_vec()).await.is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => {
                warn!(source = %source, host = %spec.host, port = spec.port, error = %e, retry_ms = delay.as_millis() as u64, "mqtt source lost its broker connection; reconnecting");
                on_state(ConnectionState::Reconnecting(e.to_string()));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = payloads.closed() => break,
                }
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    let _ = client.try_disconnect();
    info!(source = %source, "mqtt source stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn options_are_checked() {
        let spec = MqttSpec::parse(&options(&[
            ("connector", "mqtt"),
            ("url", "tcp://127.0.0.1:1884"),
            ("topic", "a/#"),
            ("qos", "at_least_once"),
        ]))
        .expect("valid");
        assert_eq!(
            (spec.host.as_str(), spec.port, spec.qos),
            ("127.0.0.1", 1884, QoS::AtLeastOnce)
        );
        assert_eq!(
            parse_url("localhost").expect("bare host"),
            ("localhost".into(), 1883)
        );
        let state =
            |pairs: &[(&str, &str)]| MqttSpec::parse(&options(pairs)).expect_err("refused").state;
        assert_eq!(
            state(&[("url", "tcp://h:1883")]),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            state(&[("url", "ssl://h:8883"), ("topic", "t")]),
            SqlState::FeatureNotSupported
        );
        assert_eq!(
            state(&[("url", "tcp://h:port"), ("topic", "t")]),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            state(&[("url", "tcp://h"), ("topic", "t"), ("qos", "twice")]),
            SqlState::InvalidParameterValue
        );
        assert_eq!(
            state(&[("url", "tcp://h"), ("topic", "t"), ("group", "g")]),
            SqlState::InvalidParameterValue
        );
    }
}
