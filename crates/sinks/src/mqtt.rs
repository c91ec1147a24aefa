//! The `mqtt` connector: publishes each appended row as a JSON object
//! (RisingWave's `FORMAT PLAIN ENCODE JSON`) to one topic, with rumqttc.
//!
//! Like RisingWave's MQTT sink it is append-only. A batch counts as
//! delivered once the broker acknowledged every message (QoS 1 and 2) or
//! every message was written to the connection (QoS 0, which promises no
//! more). On any failure the driver drops the writer, connects again and
//! publishes the whole batch again: messages may repeat (at-least-once).

use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::encode::row_to_json;
use crate::plan::writes;
use crate::{Batch, Column, MqttConfig, SinkConfig, SinkError};

/// How long a batch may wait for the broker's acknowledgements.
const ACK_DEADLINE: Duration = Duration::from_secs(30);

/// Messages the client queues before `publish` waits.
const QUEUE_CAPACITY: usize = 1024;

/// A connection to the broker.
pub struct MqttWriter {
    client: AsyncClient,
    events: mpsc::UnboundedReceiver<Progress>,
    poller: JoinHandle<()>,
    config: SinkConfig,
    columns: Vec<Column>,
    topic: String,
    qos: QoS,
    retain: bool,
}

/// What the event loop task reports.
enum Progress {
    /// A publish was written to the connection.
    Sent,
    /// The broker acknowledged a publish (PUBACK or PUBCOMP).
    Acknowledged,
    /// The connection failed.
    Failed(String),
}

impl Drop for MqttWriter {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl MqttWriter {
    /// Connects and waits for the broker's CONNACK.
    pub async fn connect(m: &MqttConfig, config: &SinkConfig, columns: &[Column], client_name: &str) -> Result<MqttWriter, SinkError> {
        let id = m.client_id.clone().unwrap_or_else(|| format!("{client_name}-{}", std::process::id()));
        let mut options = MqttOptions::new(id, m.host.clone(), m.port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(16 * 1024 * 1024, 16 * 1024 * 1024);
        if let Some(user) = &m.username {
            options.set_credentials(user.clone(), m.password.clone().unwrap_or_default());
        }
        let (client, mut eventloop) = AsyncClient::new(options, QUEUE_CAPACITY);
        let unavailable = |message: String| SinkError::Unavailable { message: format!("mqtt broker {}:{}: {message}", m.host, m.port) };
        let connected = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        })
        .await;
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(unavailable(e)),
            Err(_) => return Err(unavailable("no CONNACK within 10 s".into())),
        }
        let (tx, events) = mpsc::unbounded_channel();
        let poller = tokio::spawn(poll(eventloop, tx));
        let qos = match m.qos {
            0 => QoS::AtMostOnce,
            1 => QoS::AtLeastOnce,
            _ => QoS::ExactlyOnce,
        };
        Ok(MqttWriter { client, events, poller, config: config.clone(), columns: columns.to_vec(), topic: m.topic.clone(), qos, retain: m.retain })
    }

    /// Publishes the batch's appended rows and waits until they count as
    /// delivered (see the module comment).
    pub async fn deliver(&mut self, batch: &Batch) -> Result<(), SinkError> {
        let rows = writes(&self.config, batch).upserts;
        if rows.is_empty() {
            return Ok(());
        }
        while self.events.try_recv().is_ok() {}
        let mut pending = rows.len();
        for row in &rows {
            let payload = row_to_json(row, &self.columns).to_string();
            self.client
                .publish(self.topic.clone(), self.qos, self.retain, payload)
                .await
                .map_err(|e| SinkError::Unavailable { message: format!("mqtt publish: {e}") })?;
            // Count progress while publishing so that the channel never holds more than a queue's worth.
            while let Ok(p) = self.events.try_recv() {
                self.count(p, &mut pending)?;
            }
        }
        let deadline = tokio::time::Instant::now() + ACK_DEADLINE;
        while pending > 0 {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(p)) => self.count(p, &mut pending)?,
                Ok(None) => return Err(SinkError::Unavailable { message: "mqtt event loop stopped".into() }),
                Err(_) => {
                    return Err(SinkError::Unavailable {
                        message: format!("{pending} of {} messages not acknowledged within {ACK_DEADLINE:?}", rows.len()),
                    })
                }
            }
        }
        Ok(())
    }

    fn count(&self, p: Progress, pending: &mut usize) -> Result<(), SinkError> {
        match (p, self.qos) {
            (Progress::Failed(e), _) => Err(SinkError::Unavailable { message: e }),
            (Progress::Sent, QoS::AtMostOnce) | (Progress::Acknowledged, QoS::AtLeastOnce | QoS::ExactlyOnce) => {
                *pending = pending.saturating_sub(1);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Drives the connection, reporting publishes written and acknowledged.
/// Stops at the first connection error (the writer is then dropped and a
/// new one connects).
async fn poll(mut eventloop: EventLoop, tx: mpsc::UnboundedSender<Progress>) {
    loop {
        let progress = match eventloop.poll().await {
            Ok(Event::Outgoing(Outgoing::Publish(_))) => Progress::Sent,
            Ok(Event::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => Progress::Acknowledged,
            Ok(_) => continue,
            Err(e) => {
                let _ = tx.send(Progress::Failed(e.to_string()));
                return;
            }
        };
        if tx.send(progress).is_err() {
            return;
        }
    }
}
