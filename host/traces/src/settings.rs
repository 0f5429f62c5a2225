//! Whether and where traces go, read from the standard OpenTelemetry variables as Spin reads
//! them: on when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as it is) or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (plus `/v1/traces`) is set, off otherwise or when
//! `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`. The batch variables
//! (`OTEL_BSP_*`), the export timeout, `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` are
//! read too; a bad value is refused with its name, the value and what is accepted.

use std::time::Duration;

use heart_settings::{SettingError, Whole};

/// The OTLP path of traces under a base endpoint.
const TRACES_PATH: &str = "/v1/traces";

/// Used as it is.
pub const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// The base of every signal's endpoint: traces go to `<it>/v1/traces`.
pub const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The service name (default: the app's name from `spin.toml`).
pub const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// More resource attributes, `key=value,key=value` (values percent-encoded).
pub const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// Most spans waiting for export; more are dropped (and counted).
pub const MAX_QUEUE_SIZE: Whole<usize> = Whole {
    name: "OTEL_BSP_MAX_QUEUE_SIZE",
    flag: None,
    default: 2048,
    range: 1..=1_000_000,
    unit: "spans",
    help: "Most spans waiting for export; more are dropped and counted",
};

/// Most spans in one export request.
pub const MAX_EXPORT_BATCH_SIZE: Whole<usize> = Whole {
    name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    flag: None,
    default: 512,
    range: 1..=1_000_000,
    unit: "spans",
    help: "Most spans in one export request",
};

/// Longest a span waits for its batch to fill before it is exported anyway.
pub const SCHEDULE_DELAY: Whole<u64> = Whole {
    name: "OTEL_BSP_SCHEDULE_DELAY",
    flag: None,
    default: 5_000,
    range: 1..=600_000,
    unit: "ms",
    help: "Longest a span waits for its batch to fill",
};

/// How long one export request may take.
pub const TRACES_TIMEOUT: Whole<u64> = Whole {
    name: "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
    flag: None,
    default: 10_000,
    range: 1..=600_000,
    unit: "ms",
    help: "How long one export request may take",
};

/// [`TRACES_TIMEOUT`] for every signal, read when that one is unset.
pub const TIMEOUT: Whole<u64> = Whole {
    name: "OTEL_EXPORTER_OTLP_TIMEOUT",
    ..TRACES_TIMEOUT
};

/// Where and how traces are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSettings {
    /// The OTLP/HTTP traces URL (`http://host:port/v1/traces`).
    pub endpoint: String,
    /// `service.name`.
    pub service_name: String,
    /// Resource attributes from `OTEL_RESOURCE_ATTRIBUTES`, in order.
    pub resource_attributes: Vec<(String, String)>,
    /// Most spans waiting for export.
    pub max_queue_size: usize,
    /// Most spans in one export request.
    pub max_export_batch_size: usize,
    /// Longest a span waits for its batch to fill.
    pub schedule_delay: Duration,
    /// How long one export request may take.
    pub export_timeout: Duration,
}

/// A trace setting that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceSettingsError {
    /// A number out of its range.
    #[error(transparent)]
    Number(#[from] SettingError),
    /// Any other variable.
    #[error("{name} `{value}` is invalid: expected {expected}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// The rejected value.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
}

impl TraceSettings {
    /// The settings `lookup` (the process's or a container's environment) gives, `None` when
    /// traces are off; `default_service` names the service when `OTEL_SERVICE_NAME` is unset.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        default_service: &str,
    ) -> Result<Option<Self>, TraceSettingsError> {
        let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(disabled) = set("OTEL_SDK_DISABLED") {
            match disabled.trim().to_ascii_lowercase().as_str() {
                "true" => return Ok(None),
                "false" => {}
                _ => return Err(invalid("OTEL_SDK_DISABLED", disabled, "true or false")),
            }
        }
        if let Some(exporter) = set("OTEL_TRACES_EXPORTER") {
            match exporter.trim() {
                "none" => return Ok(None),
                "otlp" => {}
                _ => return Err(invalid("OTEL_TRACES_EXPORTER", exporter, "otlp or none")),
            }
        }
        for name in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(protocol) = set(name)
                && protocol.trim() != "http/protobuf"
            {
                let expected = "http/protobuf (the only OTLP protocol heart-host sends)";
                return Err(invalid(name, protocol, expected));
            }
        }
        let endpoint = match (set(TRACES_ENDPOINT), set(ENDPOINT)) {
            (Some(url), _) => checked_url(TRACES_ENDPOINT, url.trim())?,
            (None, Some(base)) => {
                let base = checked_url(ENDPOINT, base.trim())?;
                format!("{}{TRACES_PATH}", base.trim_end_matches('/'))
            }
            (None, None) => return Ok(None),
        };
        let timeout = match lookup(TRACES_TIMEOUT.name) {
            Some(_) => TRACES_TIMEOUT.read(&lookup)?,
            None => TIMEOUT.read(&lookup)?,
        };
        let max_queue_size = MAX_QUEUE_SIZE.read(&lookup)?;
        Ok(Some(Self {
            endpoint,
            service_name: set(SERVICE_NAME).unwrap_or_else(|| default_service.to_owned()),
            resource_attributes: match set(RESOURCE_ATTRIBUTES) {
                Some(raw) => resource_attributes(&raw)?,
                None => Vec::new(),
            },
            max_queue_size,
            // A batch never holds more than the queue.
            max_export_batch_size: MAX_EXPORT_BATCH_SIZE.read(&lookup)?.min(max_queue_size),
            schedule_delay: Duration::from_millis(SCHEDULE_DELAY.read(&lookup)?),
            export_timeout: Duration::from_millis(timeout),
        }))
    }
}

fn invalid(name: &'static str, value: String, expected: &'static str) -> TraceSettingsError {
    TraceSettingsError::Invalid {
        name,
        value,
        expected,
    }
}

/// `url` if it is an `http://` URL with a host: the exporter speaks plain HTTP (a collector on
/// the node or in the pod, the usual place of an OpenTelemetry agent).
fn checked_url(name: &'static str, url: &str) -> Result<String, TraceSettingsError> {
    let expected = "an http:// URL with a host, e.g. http://otel-collector:4318";
    match url.parse::<http::Uri>() {
        Ok(uri) if uri.scheme_str() == Some("http") && uri.host().is_some() => Ok(url.to_owned()),
        _ => Err(invalid(name, url.to_owned(), expected)),
    }
}

/// `key=value,key=value`, values percent-decoded (the OpenTelemetry format).
fn resource_attributes(raw: &str) -> Result<Vec<(String, String)>, TraceSettingsError> {
    let expected = "comma-separated key=value pairs with non-empty keys (values percent-encoded)";
    raw.split(',')
        .filter(|entry| !entry.trim().is_empty())
        .map(|entry| {
            let (key, value) = entry
                .split_once('=')
                .filter(|(key, _)| !key.trim().is_empty())
                .ok_or_else(|| invalid(RESOURCE_ATTRIBUTES, raw.to_owned(), expected))?;
            let value = percent_encoding::percent_decode_str(value.trim())
                .decode_utf8()
                .map_err(|_| invalid(RESOURCE_ATTRIBUTES, raw.to_owned(), expected))?;
            Ok((key.trim().to_owned(), value.into_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Option<TraceSettings>, TraceSettingsError> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        };
        TraceSettings::from_lookup(lookup, "heart-display")
    }

    /// A test's variables.
    type Vars<'a> = [(&'a str, &'a str)];

    /// Settings that must be accepted with traces on.
    fn on(vars: &[(&str, &str)]) -> TraceSettings {
        read(vars).expect("accepted").expect("traces on")
    }

    #[test]
    fn off_unless_an_endpoint_is_set() {
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[(SERVICE_NAME, "x")]), Ok(None));
        let set = [(ENDPOINT, "http://collector:4318")];
        assert!(read(&set).expect("accepted").is_some());
        let disabled = [set[0], ("OTEL_SDK_DISABLED", "true")];
        assert_eq!(read(&disabled), Ok(None));
        let none = [set[0], ("OTEL_TRACES_EXPORTER", "none")];
        assert_eq!(read(&none), Ok(None));
    }

    #[test]
    fn the_base_endpoint_gets_the_traces_path_and_the_traces_one_is_used_as_is() {
        let base = on(&[(ENDPOINT, "http://collector:4318/")]);
        assert_eq!(base.endpoint, "http://collector:4318/v1/traces");
        assert_eq!(base.service_name, "heart-display");
        let both = [
            (ENDPOINT, "http://collector:4318"),
            (TRACES_ENDPOINT, "http://other:9999/custom"),
            (SERVICE_NAME, "hearts"),
        ];
        let traces = on(&both);
        assert_eq!(traces.endpoint, "http://other:9999/custom");
        assert_eq!(traces.service_name, "hearts");
        assert_eq!(traces.export_timeout, Duration::from_secs(10));
        assert_eq!(traces.max_queue_size, 2048);
    }

    #[test]
    fn resource_attributes_are_decoded() {
        let vars = [
            (ENDPOINT, "http://c:4318"),
            (RESOURCE_ATTRIBUTES, "team=hearts, region=eu%2Cwest ,"),
        ];
        let settings = on(&vars);
        assert_eq!(
            settings.resource_attributes,
            [
                ("team".to_owned(), "hearts".to_owned()),
                ("region".to_owned(), "eu,west".to_owned())
            ]
        );
    }

    #[test]
    fn bad_values_are_named_with_what_is_accepted() {
        let cases: [(&Vars, &str, &str); 6] = [
            (&[(ENDPOINT, "collector:4318")], ENDPOINT, "http:// URL"),
            (
                &[(TRACES_ENDPOINT, "https://c/v1/traces")],
                TRACES_ENDPOINT,
                "http://",
            ),
            (
                &[
                    (ENDPOINT, "http://c"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "http/protobuf",
            ),
            (
                &[(ENDPOINT, "http://c"), (RESOURCE_ATTRIBUTES, "=x")],
                RESOURCE_ATTRIBUTES,
                "key=value",
            ),
            (
                &[(ENDPOINT, "http://c"), ("OTEL_BSP_SCHEDULE_DELAY", "0")],
                "OTEL_BSP_SCHEDULE_DELAY",
                "1..=600000",
            ),
            (
                &[(ENDPOINT, "http://c"), ("OTEL_SDK_DISABLED", "maybe")],
                "OTEL_SDK_DISABLED",
                "true or false",
            ),
        ];
        for (vars, name, expected) in cases {
            let message = read(vars).expect_err(name).to_string();
            assert!(message.contains(name), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }
}
