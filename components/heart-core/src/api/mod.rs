//! The HTTP-agnostic API: a plain request (method, path, query, `Accept`) in, a plain response
//! (status, headers, body) out. Every adapter (Spin component, WASI 0.3 component, native
//! benchmark baseline) only converts its world's types to and from these.

mod asset;
mod encoding;
mod live;
mod message;
mod negotiate;
mod query;
mod routes;
mod variables;
mod weighted;

pub use asset::Asset;
pub use encoding::{Coding, Encoded, choose_coding};
pub use live::{CLOSING_VARIABLE, LIVE_PATH, LiveAnswer, LiveStep, LiveStream, live};
pub use message::{ApiRequest, ApiResponse};
pub use negotiate::{NotAcceptable, accept_field, negotiate};
pub use query::{Query, QueryError};
pub use routes::{handle, is_frame, reads_accept, reads_accept_encoding, streams};
pub use variables::{config_from_variables, env_variable_name};
