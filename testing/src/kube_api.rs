//! The one Kubernetes API call the node installer makes — `PATCH /api/v1/nodes/<node>` with a
//! merge patch of labels — served over HTTPS with a certificate of its own, as an API server
//! answers a pod's service account (there is no control plane here). It records each request
//! and answers 200, or 403 to a wrong token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// `PATCH /api/v1/nodes/x`.
    pub line: String,
    /// Its `content-type`.
    pub content_type: String,
    /// Its body.
    pub body: String,
}

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct KubeApi {
    port: u16,
    ca_pem: String,
    token: String,
    requests: Arc<Mutex<Vec<ApiRequest>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl KubeApi {
    /// Listens on 127.0.0.1 with a new self-signed certificate for that address.
    pub fn start() -> KubeApi {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("a cert");
        let cert = made.cert.der().clone();
        let key = rustls::pki_types::PrivateKeyDer::try_from(made.signing_key.serialize_der())
            .expect("a key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("a server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let token = format!("heart-test-token-{}", std::process::id());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop, token) = (requests.clone(), stop.clone(), token.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((tcp, _)) = listener.accept() else {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                        continue;
                    };
                    let _ = tcp.set_nonblocking(false);
                    let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                        continue;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    if let Some((request, authorized)) = read_request(&mut tls, &token) {
                        let status = if authorized {
                            "200 OK"
                        } else {
                            "403 Forbidden"
                        };
                        let _ = write!(
                            tls,
                            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
                        );
                        let _ = tls.flush();
                        requests.lock().expect("lock").push(request);
                    }
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
            })
        };
        KubeApi {
            port,
            ca_pem: made.cert.pem(),
            token,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT` for a pod on this node.
    pub fn service_env(&self) -> Vec<(String, String)> {
        vec![
            ("KUBERNETES_SERVICE_HOST".into(), "127.0.0.1".into()),
            ("KUBERNETES_SERVICE_PORT".into(), self.port.to_string()),
        ]
    }

    /// Writes a service account's files (`token`, `ca.crt`, `namespace`) into `dir`, as the
    /// kubelet mounts them at `/var/run/secrets/kubernetes.io/serviceaccount`.
    pub fn write_service_account(&self, dir: &Path, namespace: &str) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("token"), &self.token)?;
        std::fs::write(dir.join("ca.crt"), &self.ca_pem)?;
        std::fs::write(dir.join("namespace"), namespace)
    }

    /// The requests so far.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.requests.lock().expect("lock").clone()
    }
}

/// One request off `stream`, and whether it carried the token.
fn read_request(stream: &mut impl Read, token: &str) -> Option<(ApiRequest, bool)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let (mut length, mut content_type, mut authorized) = (0, String::new(), false);
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().ok()?,
            "content-type" => content_type = value.to_owned(),
            "authorization" => authorized = value == format!("Bearer {token}"),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let request = ApiRequest {
        line: line.trim_end().to_owned(),
        content_type,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    Some((request, authorized))
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
