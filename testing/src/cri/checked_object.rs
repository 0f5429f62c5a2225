//! A JSON object read field by field, every key checked off as it is read: what is left
//! unread when the reader is done is an error naming its path. The pod template reader
//! ([`super::pod_template`]) is built on it, so a field nobody translates cannot pass unseen.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// Why a pod template could not be turned into a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// A field the node test's kubelet does not translate.
    Untranslated(String),
    /// A value it does not accept, with what it accepts.
    Invalid {
        /// The field's path.
        at: String,
        /// The value found.
        value: String,
        /// What is accepted there.
        accepted: &'static str,
    },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::Untranslated(at) => write!(
                f,
                "`{at}` is not translated by the node test's kubelet (testing/src/cri/pod_template.rs)"
            ),
            PlanError::Invalid {
                at,
                value,
                accepted,
            } => write!(f, "`{at}` is `{value}`; accepted: {accepted}"),
        }
    }
}

impl std::error::Error for PlanError {}

pub(super) type Result<T> = std::result::Result<T, PlanError>;

pub(super) fn millicores(text: &str) -> Option<i64> {
    match text.strip_suffix('m') {
        Some(milli) => milli.parse().ok(),
        None => text.parse::<i64>().ok()?.checked_mul(1000),
    }
}

pub(super) fn bytes(text: &str) -> Option<i64> {
    let units = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30)];
    for (suffix, factor) in units {
        if let Some(n) = text.strip_suffix(suffix) {
            // A quantity past i64 is no quantity (found by the pod_template fuzz target).
            return n.parse::<i64>().ok()?.checked_mul(factor);
        }
    }
    text.parse().ok()
}

/// A JSON object whose keys are checked off as they are read.
pub(super) struct Object<'a> {
    pub(super) at: String,
    pub(super) map: &'a Map<String, Value>,
    taken: BTreeSet<String>,
}

impl<'a> Object<'a> {
    pub(super) fn new(value: &'a Value, at: &str) -> Result<Object<'a>> {
        let map = value.as_object().ok_or_else(|| PlanError::Invalid {
            at: at.to_owned(),
            value: value.to_string(),
            accepted: "an object",
        })?;
        Ok(Object {
            at: at.to_owned(),
            map,
            taken: BTreeSet::new(),
        })
    }

    pub(super) fn take(&mut self, key: &str) -> Option<&'a Value> {
        self.taken.insert(key.to_owned());
        self.map.get(key)
    }

    pub(super) fn invalid(&self, key: &str, value: &Value, accepted: &'static str) -> PlanError {
        PlanError::Invalid {
            at: format!("{}.{key}", self.at),
            value: value.to_string(),
            accepted,
        }
    }

    pub(super) fn take_object(&mut self, key: &str) -> Result<Option<Object<'a>>> {
        let at = format!("{}.{key}", self.at);
        self.take(key).map(|v| Object::new(v, &at)).transpose()
    }

    pub(super) fn object(&mut self, key: &str) -> Result<Object<'a>> {
        self.take_object(key)?
            .ok_or_else(|| PlanError::Untranslated(format!("{}.{key} (missing)", self.at)))
    }

    pub(super) fn objects(&mut self, key: &str) -> Result<Vec<Object<'a>>> {
        let at = format!("{}.{key}", self.at);
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Object::new(item, &format!("{at}[{i}]")))
                .collect(),
            Some(other) => Err(self.invalid(key, other, "a list")),
        }
    }

    pub(super) fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.invalid(key, other, "a string")),
        }
    }

    pub(super) fn strings(&mut self, key: &str) -> Result<Vec<String>> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|_| self.invalid(key, value, "a list of strings")),
        }
    }

    pub(super) fn string_map(&mut self, key: &str) -> Result<BTreeMap<String, String>> {
        match self.take(key) {
            None => Ok(BTreeMap::new()),
            Some(value) => serde_json::from_value(value.clone())
                .map_err(|_| self.invalid(key, value, "a map of strings")),
        }
    }

    pub(super) fn int(&mut self, key: &str) -> Result<Option<i64>> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => value
                .as_i64()
                .map(Some)
                .ok_or_else(|| self.invalid(key, value, "an integer")),
        }
    }

    pub(super) fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => value
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.invalid(key, value, "true or false")),
        }
    }

    pub(super) fn quantity(
        &mut self,
        key: &str,
        parse: fn(&str) -> Option<i64>,
    ) -> Result<Option<i64>> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => {
                let text = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                parse(&text).map(Some).ok_or_else(|| {
                    self.invalid(key, value, "a quantity such as 500m, 2, 64Mi or 1Gi")
                })
            }
        }
    }

    /// Fails on the first key nobody read.
    pub(super) fn finish(self) -> Result<()> {
        match self.map.keys().find(|k| !self.taken.contains(*k)) {
            Some(key) => Err(PlanError::Untranslated(format!("{}.{key}", self.at))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_past_i64_are_refused() {
        assert_eq!(bytes("256Mi"), Some(256 << 20));
        assert_eq!(bytes("9223372036854775807Gi"), None);
        assert_eq!(millicores("2"), Some(2000));
        assert_eq!(millicores("9223372036854775807"), None);
    }
}
