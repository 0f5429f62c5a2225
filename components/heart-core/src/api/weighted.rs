//! One element of a weighted list field (`Accept`, `Accept-Encoding`): its token and quality
//! (RFC 9110 §12.4.2).

/// Parses one `token;params` element into its token and `q` (default 1; a `q` that does not
/// parse or is outside 0..=1 counts as 0, as a malformed weight cannot be read as a
/// preference). `None` for an empty element.
pub(crate) fn weighted(element: &str) -> Option<(&str, f32)> {
    let mut parts = element.split(';');
    let token = parts.next()?.trim();
    if token.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("q")
        {
            q = value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))
                .unwrap_or(0.0);
        }
    }
    Some((token, q))
}
