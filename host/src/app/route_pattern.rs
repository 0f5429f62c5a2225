//! Spin's HTTP route patterns: `/path` (exact), `/prefix/...` (the prefix and everything below
//! it) and `/...` (everything).

/// A parsed `[[trigger.http]] route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePattern {
    /// Matches only this path.
    Exact(String),
    /// Matches this prefix and everything below it (`""` matches all paths).
    Wildcard(String),
}

impl RoutePattern {
    /// Parses a route as written in the manifest.
    pub fn parse(route: &str) -> Self {
        match route.strip_suffix("/...") {
            Some(prefix) => Self::Wildcard(prefix.to_owned()),
            None => Self::Exact(route.trim_end_matches('/').to_owned()),
        }
    }

    /// How specifically this pattern matches `path` (higher wins), or `None` if it does not.
    pub fn specificity(&self, path: &str) -> Option<usize> {
        match self {
            Self::Exact(exact) => {
                let trimmed = path.trim_end_matches('/');
                (trimmed == exact || (exact.is_empty() && path == "/")).then_some(usize::MAX)
            }
            Self::Wildcard(prefix) => {
                let rest = path.strip_prefix(prefix.as_str())?;
                (rest.is_empty() || rest.starts_with('/')).then_some(prefix.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_matches_every_path() {
        let p = RoutePattern::parse("/...");
        assert!(p.specificity("/").is_some());
        assert!(p.specificity("/api/heart").is_some());
    }

    #[test]
    fn prefix_wildcard_matches_the_prefix_and_below_only() {
        let p = RoutePattern::parse("/api/...");
        assert!(p.specificity("/api").is_some());
        assert!(p.specificity("/api/heart").is_some());
        assert!(p.specificity("/apix").is_none());
        assert!(p.specificity("/").is_none());
    }

    #[test]
    fn exact_routes_beat_wildcards() {
        let exact = RoutePattern::parse("/api/heart");
        let wild = RoutePattern::parse("/api/...");
        assert!(exact.specificity("/api/heart") > wild.specificity("/api/heart"));
        assert!(exact.specificity("/api/heart/x").is_none());
    }
}
