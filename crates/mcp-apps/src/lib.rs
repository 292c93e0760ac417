//! MCP Apps on top of the `mcp-transport` engine: serves a project built by `sunpeak build`.
//!
//! - [`dist`] reads `package.json` and the UI resources of `dist/`;
//! - [`catalog`] applies the MCP Apps rules (tool `_meta.ui.resourceUri`, the legacy
//!   `ui/resourceUri` and `openai/outputTemplate` keys, `text/html;profile=mcp-app`, every
//!   resource listed) and holds the answers to `tools/list`, `resources/list` and
//!   `resources/read` pre-serialized;
//! - [`client`] and [`domain`] detect the connecting host and resolve per-host sandbox domains,
//!   with the algorithms of the npm `sunpeak`;
//! - [`identity`] builds `serverInfo` from the `server` export and `package.json`;
//! - [`oauth`] builds RFC 9728 protected-resource metadata and RFC 6750 bearer challenges from
//!   the `oauth` export of the server entry (or the OAuth flags), with sunpeak's URL rules;
//! - [`routes`] answers the root page, the favicon, OAuth protected-resource metadata and 404;
//! - `node` (Unix) runs the JavaScript tool handlers and `auth()` in supervised Node.js workers;
//! - `app` (Unix) puts the catalog, the identity and the tool host together: the MCP operations
//!   `sunpeak start` answers itself, and [`serve`] registers them on the engine.
//!
//! The library logs through `tracing` and returns typed errors; it never prints.

#[cfg(unix)]
pub mod app;
pub mod catalog;
pub mod client;
pub mod dist;
pub mod domain;
pub mod identity;
mod js;
#[cfg(unix)]
pub mod node;
pub mod oauth;
pub mod routes;
#[cfg(unix)]
pub mod serve;

pub use catalog::{AppTool, Catalog, RESOURCE_MIME_TYPE};
pub use client::{HostClient, detect_client};
pub use dist::{DistError, DistResource, PackageInfo, load_resources};
pub use domain::{
    compute_chatgpt_domain, compute_claude_domain, inject_default_domain, inject_resolved_domain,
    resolve_domain,
};
pub use identity::{FAVICON_PNG, ServerIdentity, favicon_data_uri};
