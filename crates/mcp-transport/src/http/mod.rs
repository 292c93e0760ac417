//! HTTP plumbing: the response body type, body limits, headers, CORS, Host/Origin checks and
//! error responses.

pub mod body;
pub mod cors;
pub(crate) mod errors;
pub mod headers;
pub(crate) mod limit;
pub(crate) mod linger;
pub(crate) mod origin;
pub(crate) mod trim;
pub(crate) mod write_deadline;
