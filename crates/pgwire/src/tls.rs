//! TLS for client connections: the server's certificate and key, loaded
//! once from PEM, and the rustls configuration every connection that asks
//! for encryption (SSLRequest) is served with.
//!
//! Only TLS 1.2 and 1.3 with rustls' safe defaults (the `ring` provider);
//! no client certificates, no channel binding (SCRAM-SHA-256-PLUS is not
//! offered).

use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls;

/// The server side of TLS, ready to accept connections.
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig")
    }
}

impl TlsConfig {
    /// Builds the configuration from a PEM certificate chain (the
    /// server's certificate first) and a PEM private key (PKCS#8, PKCS#1
    /// or SEC1). The error says what is wrong with which input.
    pub fn from_pem(cert_chain: &[u8], private_key: &[u8]) -> Result<TlsConfig, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_chain)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("the certificate file is not valid PEM: {e}"))?;
        if certs.is_empty() {
            return Err("the certificate file holds no certificate".into());
        }
        let key = PrivateKeyDer::from_pem_slice(private_key)
            .map_err(|e| format!("the key file holds no usable private key: {e}"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("the certificate and key do not form a usable pair: {e}"))?;
        Ok(TlsConfig { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) })
    }
}
