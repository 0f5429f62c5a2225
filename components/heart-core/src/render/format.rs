//! The output formats a frame can be rendered in.

use std::fmt;

/// A rendering format with its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `image/svg+xml`.
    Svg,
    /// `application/json`.
    Json,
    /// `image/png`.
    Png,
    /// `text/plain; charset=utf-8`.
    Text,
}

impl Format {
    /// Every format, in the order content negotiation prefers them on a tie.
    pub const ALL: [Format; 4] = [Format::Svg, Format::Json, Format::Png, Format::Text];

    /// The `format` query value (`svg`, `json`, `png`, `txt`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Svg => "svg",
            Self::Json => "json",
            Self::Png => "png",
            Self::Text => "txt",
        }
    }

    /// Finds a format by its query value.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The media type without parameters.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Svg => "image/svg+xml",
            Self::Json => "application/json",
            Self::Png => "image/png",
            Self::Text => "text/plain",
        }
    }

    /// The full `Content-Type` header value.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Svg => "image/svg+xml",
            Self::Json => "application/json",
            Self::Png => "image/png",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("gif"), None);
    }
}
