//! Progress and cancellation notifications.

use serde::{Deserialize, Serialize};

use crate::common::Meta;
use crate::jsonrpc::RequestId;

/// A progress token: a string or an integer, like a request id.
pub type ProgressToken = RequestId;

/// Params of `notifications/progress`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressNotificationParams {
    /// The token from the request's `_meta.progressToken`.
    pub progress_token: ProgressToken,
    /// Progress so far; must increase with each notification.
    pub progress: f64,
    /// Total, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// A human-readable message (2025-03-26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Params of `notifications/cancelled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelledNotificationParams {
    /// The request to cancel (optional in 2025-11-25, where tasks use `tasks/cancel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<RequestId>,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Reads `progressToken` from a request's `_meta`.
pub fn progress_token(meta: Option<&Meta>) -> Option<ProgressToken> {
    meta?.get("progressToken").and_then(RequestId::from_value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wire_format() {
        let p = ProgressNotificationParams {
            progress_token: RequestId::from("t"),
            progress: 50.0,
            total: Some(100.0),
            message: None,
        };
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            json!({"progressToken":"t","progress":50.0,"total":100.0})
        );
        let c: CancelledNotificationParams =
            serde_json::from_value(json!({"requestId": 3, "reason": "x"})).unwrap();
        assert_eq!(c.request_id, Some(RequestId::Number(3)));
    }

    #[test]
    fn token_from_meta() {
        let meta = json!({"progressToken": "progress-test-1"});
        let meta = meta.as_object().unwrap();
        assert_eq!(
            progress_token(Some(meta)),
            Some(RequestId::from("progress-test-1"))
        );
        assert_eq!(progress_token(None), None);
    }
}
