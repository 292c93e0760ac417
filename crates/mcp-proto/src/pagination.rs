//! Pagination: the `cursor` param of list requests.

use serde::{Deserialize, Serialize};

use crate::common::Meta;

/// Params of `tools/list`, `resources/list`, `resources/templates/list` and `prompts/list`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PaginatedRequestParams {
    /// Opaque cursor from a previous page's `nextCursor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Request metadata.
    #[serde(default, rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
}
