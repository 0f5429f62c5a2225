//! HTTPS: a certificate chain and private key (PEM files, as in a Kubernetes TLS Secret) loaded
//! into a rustls server config after the checks `validate-config` also runs: the PEM parses,
//! the key matches the certificate, and the certificate is valid now.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use rustls::ServerConfig;
use rustls::crypto::ring::default_provider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// A certificate/key pair on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a TLS pair is not usable.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// No PEM `CERTIFICATE` block, or a malformed one.
    #[error("{} holds no valid PEM certificate: {reason}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// No PEM private key block, or a malformed one.
    #[error("{} holds no valid PEM private key (PKCS#8, PKCS#1 or SEC1): {reason}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The key is not the certificate's.
    #[error("the private key in {} does not match the certificate in {}", key.display(), cert.display())]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// Outside the certificate's validity period.
    #[error("the certificate in {} is valid from {not_before} to {not_after}, not now ({now})", path.display())]
    Expired {
        /// The file.
        path: PathBuf,
        /// Start of validity.
        not_before: String,
        /// End of validity.
        not_after: String,
        /// The time checked.
        now: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// What a valid pair holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSummary {
    /// The leaf certificate's subject.
    pub subject: String,
    /// When it expires.
    pub not_after: String,
    /// Certificates in the chain.
    pub chain_len: usize,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads and checks the pair at time `now`.
fn load_pair(
    files: &TlsFiles,
    now: SystemTime,
) -> Result<
    (
        Vec<CertificateDer<'static>>,
        PrivateKeyDer<'static>,
        TlsSummary,
    ),
    TlsError,
> {
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let certificate_error = |reason: String| TlsError::Certificate {
        path: files.cert.clone(),
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| certificate_error(e.to_string()))?;
    let Some(leaf) = chain.first() else {
        return Err(certificate_error("no CERTIFICATE block found".into()));
    };
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| certificate_error(format!("not an X.509 certificate: {e}")))?;
    let validity = parsed.validity();
    let unix = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    };
    let now_asn1 = x509_parser::time::ASN1Time::from_timestamp(unix(now))
        .map_err(|e| certificate_error(e.to_string()))?;
    if now_asn1 < validity.not_before || now_asn1 > validity.not_after {
        return Err(TlsError::Expired {
            path: files.cert.clone(),
            not_before: validity.not_before.to_string(),
            not_after: validity.not_after.to_string(),
            now: now_asn1.to_string(),
        });
    }
    let summary = TlsSummary {
        subject: parsed.subject().to_string(),
        not_after: validity.not_after.to_string(),
        chain_len: chain.len(),
    };
    let provider = default_provider();
    let signing = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| TlsError::Key {
            path: files.key.clone(),
            reason: e.to_string(),
        })?;
    let mismatch = || TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
    };
    CertifiedKey::new(chain.clone(), signing)
        .keys_match()
        .map_err(|_| mismatch())?;
    Ok((chain, key, summary))
}

/// Checks the pair at `now` without building a server config (for `validate-config`).
pub fn check(files: &TlsFiles, now: SystemTime) -> Result<TlsSummary, TlsError> {
    load_pair(files, now).map(|(_, _, summary)| summary)
}

/// Checks the pair and builds the HTTPS server config (HTTP/1.1 over TLS 1.2/1.3).
pub fn server_config(files: &TlsFiles) -> Result<(Arc<ServerConfig>, TlsSummary), TlsError> {
    let (chain, key, summary) = load_pair(files, SystemTime::now())?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // HTTP/2 first where the client offers it, else HTTP/1.1.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((Arc::new(config), summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct Pair {
        _dir: tempfile::TempDir,
        files: TlsFiles,
    }

    fn write_pair(cert: &str, key: &str) -> Pair {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = TlsFiles {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
        };
        std::fs::write(&files.cert, cert).expect("write cert");
        std::fs::write(&files.key, key).expect("write key");
        Pair { _dir: dir, files }
    }

    fn generated() -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("generates")
    }

    #[test]
    fn a_matching_current_pair_loads() {
        let made = generated();
        let pair = write_pair(&made.cert.pem(), &made.signing_key.serialize_pem());
        let (_, summary) = server_config(&pair.files).expect("valid pair");
        assert_eq!(summary.chain_len, 1);
    }

    #[test]
    fn each_bad_pair_is_named_clearly() {
        let (a, b) = (generated(), generated());
        let mismatch = write_pair(&a.cert.pem(), &b.signing_key.serialize_pem());
        let message = check(&mismatch.files, SystemTime::now())
            .expect_err("mismatch")
            .to_string();
        assert!(
            message.contains("does not match the certificate"),
            "{message}"
        );

        let garbage = write_pair("not pem", &a.signing_key.serialize_pem());
        let message = check(&garbage.files, SystemTime::now())
            .expect_err("garbage")
            .to_string();
        assert!(
            message.contains("holds no valid PEM certificate"),
            "{message}"
        );

        let no_key = write_pair(&a.cert.pem(), &a.cert.pem());
        let message = check(&no_key.files, SystemTime::now())
            .expect_err("no key")
            .to_string();
        assert!(
            message.contains("holds no valid PEM private key"),
            "{message}"
        );

        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2019, 1, 1);
        params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        let old = params.self_signed(&key).expect("signs");
        let expired = write_pair(&old.pem(), &key.serialize_pem());
        let message = check(&expired.files, SystemTime::now())
            .expect_err("expired")
            .to_string();
        assert!(
            message.contains("is valid from Jan  1 00:00:00 2019") && message.contains("not now"),
            "{message}"
        );
        let before = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
        assert!(
            check(&expired.files, before).is_err(),
            "not yet valid in 2017"
        );

        let missing = TlsFiles {
            cert: "/nonexistent/tls.crt".into(),
            key: "/nonexistent/tls.key".into(),
        };
        let message = check(&missing, SystemTime::now())
            .expect_err("missing")
            .to_string();
        assert!(
            message.contains("cannot read /nonexistent/tls.crt"),
            "{message}"
        );
    }
}
