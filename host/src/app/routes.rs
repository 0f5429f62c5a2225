//! The app's route table: each `[[trigger.http]] route` as written, parsed, and the slot of the
//! component it names; a path is matched by Spin's precedence.

use crate::app::route_pattern::RoutePattern;

/// The manifest's HTTP routes.
#[derive(Debug, Default)]
pub(crate) struct Routes(Vec<Route>);

#[derive(Debug)]
struct Route {
    /// As written (e.g. `/...`): the metric label of the requests it takes.
    written: String,
    pattern: RoutePattern,
    /// The component's slot.
    slot: usize,
}

impl Routes {
    /// Adds `route` (as written in the manifest) for the component in `slot`.
    pub(crate) fn push(&mut self, route: &str, slot: usize) {
        self.0.push(Route {
            written: route.to_owned(),
            pattern: RoutePattern::parse(route),
            slot,
        });
    }

    /// The route `path` matched (as written) and its component's slot: exact routes beat
    /// wildcards, and longer wildcard prefixes beat shorter ones.
    pub(crate) fn matched(&self, path: &str) -> Option<(&str, usize)> {
        self.0
            .iter()
            .filter_map(|route| route.pattern.specificity(path).map(|s| (s, route)))
            .max_by_key(|(s, _)| *s)
            .map(|(_, route)| (route.written.as_str(), route.slot))
    }
}
