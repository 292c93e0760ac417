//! JSON-RPC 2.0 and Model Context Protocol (MCP) messages: envelopes, every MCP request,
//! result and notification a server receives or sends at protocol version 2025-11-25, the
//! modern era's additions of 2026-07-28 ([`modern`]: per-request `_meta`, `server/discover`,
//! `resultType`, cache hints, `input_required`, `subscriptions/listen`), the versions of both
//! eras (`initialize` negotiates 2024-11-05 to 2025-11-25; 2026-07-28 is named per request)
//! and error codes.
//!
//! Pure data: no I/O, no async. Unknown JSON members never make a message invalid; where a
//! type may carry extensions (capabilities, implementation info, icons, tool annotations)
//! they are kept in an `extra` map.
//!
//! ```
//! use mcp_proto::{parse_body, Incoming, Message, ProtocolVersion, ClientRequest};
//!
//! let body = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{
//!     "protocolVersion":"2025-06-18","capabilities":{"extensions":{}},
//!     "clientInfo":{"name":"demo","version":"1.0"}}}"#;
//! let Incoming::Single(Message::Request(req)) = parse_body(body).unwrap() else { panic!() };
//! let ClientRequest::Initialize(init) = ClientRequest::parse(&req.method, req.params).unwrap() else {
//!     panic!()
//! };
//! assert_eq!(ProtocolVersion::negotiate(&init.protocol_version), ProtocolVersion::V2025_06_18);
//! assert_eq!(ProtocolVersion::negotiate("2099-01-01"), ProtocolVersion::LATEST);
//! ```

pub mod common;
pub mod completion;
pub mod content;
pub mod elicitation;
pub mod error;
pub mod initialize;
pub mod jsonrpc;
pub mod logging;
pub mod messages;
pub mod methods;
pub mod modern;
pub mod pagination;
pub mod progress;
pub mod prompts;
pub mod resources;
pub mod roots;
pub mod sampling;
pub mod tools;
pub mod version;

pub use common::{Annotations, EmptyResult, Icon, JsonObject, Meta, Role};
pub use completion::{
    CompleteRequestParams, CompleteResult, Completion, CompletionArgument, CompletionContext,
    CompletionReference,
};
pub use content::{
    BlobResourceContents, ContentBlock, EmbeddedResource, ImageContent, ResourceContents,
    TextContent, TextResourceContents,
};
pub use elicitation::{ElicitAction, ElicitRequestParams, ElicitResult};
pub use error::{ErrorCode, McpError};
pub use initialize::{
    ClientCapabilities, ElicitationCapability, Implementation, InitializeRequestParams,
    InitializeResult, ListChangedCapability, ResourcesCapability, RootsCapability,
    SamplingCapability, ServerCapabilities,
};
pub use jsonrpc::{
    ErrorResponse, Incoming, InvalidMessage, Message, Notification, ParseError, Request, RequestId,
    ResultResponse, parse_body, parse_value,
};
pub use logging::{LoggingLevel, LoggingMessageNotificationParams, SetLevelRequestParams};
pub use messages::{
    ClientNotification, ClientRequest, ServerNotification, ServerRequest, parse_params,
};
pub use modern::{
    CacheHints, CacheScope, DiscoverResult, InputRequest, InputRequiredResult, InputResponseParams,
    MetaError, RequestMeta, ResultType, SubscriptionFilter, SubscriptionsListenRequestParams,
};
pub use pagination::PaginatedRequestParams;
pub use progress::{CancelledNotificationParams, ProgressNotificationParams, ProgressToken};
pub use prompts::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage,
};
pub use resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, Resource, ResourceTemplate, ResourceUriParams,
};
pub use roots::{ListRootsResult, Root};
pub use sampling::{CreateMessageRequestParams, CreateMessageResult, SamplingMessage};
pub use tools::{
    CallToolRequestParams, CallToolResult, ListToolsResult, Tool, ToolAnnotations, ToolExecution,
};
pub use version::{ProtocolVersion, UnsupportedVersion};
