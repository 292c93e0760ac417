//! Typed views of every MCP message, by direction: what a server receives
//! ([`ClientRequest`], [`ClientNotification`]) and what it sends ([`ServerRequest`],
//! [`ServerNotification`]).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::common::JsonObject;
use crate::completion::CompleteRequestParams;
use crate::elicitation::ElicitRequestParams;
use crate::error::McpError;
use crate::initialize::InitializeRequestParams;
use crate::logging::{LoggingMessageNotificationParams, SetLevelRequestParams};
use crate::methods as m;
use crate::pagination::PaginatedRequestParams;
use crate::progress::{CancelledNotificationParams, ProgressNotificationParams};
use crate::prompts::GetPromptRequestParams;
use crate::resources::{
    ReadResourceRequestParams, ResourceUpdatedNotificationParams, SubscribeRequestParams,
};
use crate::sampling::CreateMessageRequestParams;
use crate::tools::CallToolRequestParams;

/// Deserializes `params` (absent params read as `{}`); failures are `-32602` errors naming the
/// method.
pub fn parse_params<T: DeserializeOwned>(
    method: &str,
    params: Option<Value>,
) -> Result<T, McpError> {
    let v = params.unwrap_or_else(|| Value::Object(JsonObject::new()));
    serde_json::from_value(v)
        .map_err(|e| McpError::invalid_params(format!("Invalid params for {method}: {e}")))
}

/// A request a client sends to a server.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientRequest {
    /// `initialize`.
    Initialize(Box<InitializeRequestParams>),
    /// `ping`.
    Ping,
    /// `tools/list`.
    ListTools(PaginatedRequestParams),
    /// `tools/call`.
    CallTool(CallToolRequestParams),
    /// `resources/list`.
    ListResources(PaginatedRequestParams),
    /// `resources/templates/list`.
    ListResourceTemplates(PaginatedRequestParams),
    /// `resources/read`.
    ReadResource(ReadResourceRequestParams),
    /// `resources/subscribe`.
    Subscribe(SubscribeRequestParams),
    /// `resources/unsubscribe`.
    Unsubscribe(SubscribeRequestParams),
    /// `prompts/list`.
    ListPrompts(PaginatedRequestParams),
    /// `prompts/get`.
    GetPrompt(GetPromptRequestParams),
    /// `completion/complete`.
    Complete(CompleteRequestParams),
    /// `logging/setLevel`.
    SetLevel(SetLevelRequestParams),
    /// Any other method (extensions, tasks, future versions).
    Other {
        /// The method.
        method: String,
        /// The params.
        params: Option<Value>,
    },
}

impl ClientRequest {
    /// Reads a request from its method and params. Bad params of a known method are `-32602`.
    pub fn parse(method: &str, params: Option<Value>) -> Result<Self, McpError> {
        Ok(match method {
            m::INITIALIZE => Self::Initialize(parse_params(method, params)?),
            m::PING => Self::Ping,
            m::TOOLS_LIST => Self::ListTools(parse_params(method, params)?),
            m::TOOLS_CALL => Self::CallTool(parse_params(method, params)?),
            m::RESOURCES_LIST => Self::ListResources(parse_params(method, params)?),
            m::RESOURCES_TEMPLATES_LIST => {
                Self::ListResourceTemplates(parse_params(method, params)?)
            }
            m::RESOURCES_READ => Self::ReadResource(parse_params(method, params)?),
            m::RESOURCES_SUBSCRIBE => Self::Subscribe(parse_params(method, params)?),
            m::RESOURCES_UNSUBSCRIBE => Self::Unsubscribe(parse_params(method, params)?),
            m::PROMPTS_LIST => Self::ListPrompts(parse_params(method, params)?),
            m::PROMPTS_GET => Self::GetPrompt(parse_params(method, params)?),
            m::COMPLETION_COMPLETE => Self::Complete(parse_params(method, params)?),
            m::LOGGING_SET_LEVEL => Self::SetLevel(parse_params(method, params)?),
            _ => Self::Other {
                method: method.to_owned(),
                params,
            },
        })
    }
}

/// A notification a client sends to a server.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientNotification {
    /// `notifications/initialized`.
    Initialized,
    /// `notifications/cancelled`.
    Cancelled(CancelledNotificationParams),
    /// `notifications/progress`.
    Progress(ProgressNotificationParams),
    /// `notifications/roots/list_changed`.
    RootsListChanged,
    /// Any other notification.
    Other {
        /// The method.
        method: String,
        /// The params.
        params: Option<Value>,
    },
}

impl ClientNotification {
    /// Reads a notification from its method and params.
    pub fn parse(method: &str, params: Option<Value>) -> Result<Self, McpError> {
        Ok(match method {
            m::NOTIFICATION_INITIALIZED => Self::Initialized,
            m::NOTIFICATION_CANCELLED => Self::Cancelled(parse_params(method, params)?),
            m::NOTIFICATION_PROGRESS => Self::Progress(parse_params(method, params)?),
            m::NOTIFICATION_ROOTS_LIST_CHANGED => Self::RootsListChanged,
            _ => Self::Other {
                method: method.to_owned(),
                params,
            },
        })
    }
}

/// A request a server sends to a client.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerRequest {
    /// `ping`.
    Ping,
    /// `sampling/createMessage`.
    CreateMessage(CreateMessageRequestParams),
    /// `elicitation/create`.
    Elicit(ElicitRequestParams),
    /// `roots/list`.
    ListRoots,
}

impl ServerRequest {
    /// The method name.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Ping => m::PING,
            Self::CreateMessage(_) => m::SAMPLING_CREATE_MESSAGE,
            Self::Elicit(_) => m::ELICITATION_CREATE,
            Self::ListRoots => m::ROOTS_LIST,
        }
    }

    /// The params as JSON (`None` for methods without params).
    pub fn params(&self) -> Option<Value> {
        match self {
            Self::Ping | Self::ListRoots => None,
            Self::CreateMessage(p) => serde_json::to_value(p).ok(),
            Self::Elicit(p) => serde_json::to_value(p).ok(),
        }
    }
}

/// A notification a server sends to a client.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerNotification {
    /// `notifications/progress`.
    Progress(ProgressNotificationParams),
    /// `notifications/message`.
    LoggingMessage(LoggingMessageNotificationParams),
    /// `notifications/cancelled`.
    Cancelled(CancelledNotificationParams),
    /// `notifications/resources/updated`.
    ResourceUpdated(ResourceUpdatedNotificationParams),
    /// `notifications/resources/list_changed`.
    ResourceListChanged,
    /// `notifications/tools/list_changed`.
    ToolListChanged,
    /// `notifications/prompts/list_changed`.
    PromptListChanged,
    /// `notifications/elicitation/complete`.
    ElicitationComplete {
        /// The elicitation id of the URL-mode request.
        elicitation_id: String,
    },
}

impl ServerNotification {
    /// The method name.
    pub fn method(&self) -> &'static str {
        match self {
            Self::Progress(_) => m::NOTIFICATION_PROGRESS,
            Self::LoggingMessage(_) => m::NOTIFICATION_MESSAGE,
            Self::Cancelled(_) => m::NOTIFICATION_CANCELLED,
            Self::ResourceUpdated(_) => m::NOTIFICATION_RESOURCES_UPDATED,
            Self::ResourceListChanged => m::NOTIFICATION_RESOURCES_LIST_CHANGED,
            Self::ToolListChanged => m::NOTIFICATION_TOOLS_LIST_CHANGED,
            Self::PromptListChanged => m::NOTIFICATION_PROMPTS_LIST_CHANGED,
            Self::ElicitationComplete { .. } => m::NOTIFICATION_ELICITATION_COMPLETE,
        }
    }

    /// The params as JSON (`None` for notifications without params).
    pub fn params(&self) -> Option<Value> {
        match self {
            Self::Progress(p) => serde_json::to_value(p).ok(),
            Self::LoggingMessage(p) => serde_json::to_value(p).ok(),
            Self::Cancelled(p) => serde_json::to_value(p).ok(),
            Self::ResourceUpdated(p) => serde_json::to_value(p).ok(),
            Self::ResourceListChanged | Self::ToolListChanged | Self::PromptListChanged => None,
            Self::ElicitationComplete { elicitation_id } => {
                Some(serde_json::json!({ "elicitationId": elicitation_id }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_known_and_unknown() {
        assert_eq!(
            ClientRequest::parse("ping", None).unwrap(),
            ClientRequest::Ping
        );
        assert!(matches!(
            ClientRequest::parse("tools/list", None).unwrap(),
            ClientRequest::ListTools(_)
        ));
        assert!(matches!(
            ClientRequest::parse("tools/call", Some(json!({"name":"x"}))).unwrap(),
            ClientRequest::CallTool(_)
        ));
        assert!(matches!(
            ClientRequest::parse("tasks/list", None).unwrap(),
            ClientRequest::Other { .. }
        ));
        let e = ClientRequest::parse("tools/call", Some(json!({"arguments":1}))).unwrap_err();
        assert_eq!(e.code.0, -32602);
        assert!(ClientRequest::parse("logging/setLevel", Some(json!({"level":"nope"}))).is_err());
    }

    #[test]
    fn notifications() {
        let n = ClientNotification::parse(
            "notifications/cancelled",
            Some(json!({"requestId":"a","reason":"r"})),
        )
        .unwrap();
        assert!(matches!(n, ClientNotification::Cancelled(_)));
        assert_eq!(
            ServerNotification::ToolListChanged.method(),
            "notifications/tools/list_changed"
        );
        assert_eq!(ServerRequest::ListRoots.params(), None);
    }
}
