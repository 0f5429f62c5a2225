//! The node label, set through the Kubernetes API with the pod's service account (in-cluster:
//! `KUBERNETES_SERVICE_HOST`/`_PORT`, the mounted token and CA) as a JSON merge patch of the
//! node's labels — the one permission the chart's ClusterRole grants (`patch` on `nodes`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a pod's service account is mounted.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// What the label call needs, read before the installer enters the node's root.
#[derive(Debug, Clone)]
pub struct InCluster {
    /// `https://host:port` of the API server.
    pub server: String,
    /// The service account's token.
    pub token: String,
    /// The cluster's CA (PEM).
    pub ca_pem: Vec<u8>,
}

/// Why the label was not set.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// Not in a cluster, or the service account is not mounted.
    #[error("no in-cluster API access: {0}")]
    NoAccess(String),
    /// The API server refused or could not be reached.
    #[error("labelling node {node}: {reason}")]
    Api {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
}

impl InCluster {
    /// From the environment and the service account in `dir`.
    pub fn from_env(dir: &Path) -> Result<Self, LabelError> {
        let env = |name: &str| {
            std::env::var(name).map_err(|_| LabelError::NoAccess(format!("{name} is not set")))
        };
        let (host, port) = (
            env("KUBERNETES_SERVICE_HOST")?,
            env("KUBERNETES_SERVICE_PORT")?,
        );
        let read = |file: &str| {
            let path: PathBuf = dir.join(file);
            std::fs::read(&path)
                .map_err(|e| LabelError::NoAccess(format!("{}: {e}", path.display())))
        };
        let token = String::from_utf8_lossy(&read("token")?).trim().to_owned();
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Ok(Self {
            server: format!("https://{host}:{port}"),
            token,
            ca_pem: read("ca.crt")?,
        })
    }

    /// Sets `key=value` on node `node`.
    pub fn label(&self, node: &str, key: &str, value: &str) -> Result<(), LabelError> {
        let api = |reason: String| LabelError::Api {
            node: node.to_owned(),
            reason,
        };
        let ca = ureq::tls::Certificate::from_pem(&self.ca_pem)
            .map_err(|e| api(format!("the CA: {e}")))?;
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca])))
            .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .timeout_global(Some(std::time::Duration::from_secs(10)))
            .build()
            .new_agent();
        let patch = serde_json::json!({"metadata": {"labels": {key: value}}});
        agent
            .patch(&format!("{}/api/v1/nodes/{node}", self.server))
            .header("authorization", &format!("Bearer {}", self.token))
            .content_type("application/merge-patch+json")
            .send(patch.to_string())
            .map_err(|e| api(e.to_string()))?;
        Ok(())
    }
}
