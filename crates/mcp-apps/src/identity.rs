//! The server's identity in the `initialize` result: `serverInfo` and `instructions`.
//!
//! Built from the `server` export of `dist/server.js` and the project's `package.json`, as
//! sunpeak does: `name = server.name ?? package.name ?? "sunpeak-app"`,
//! `version = server.version ?? package.version ?? "0.1.0"`; `title`, `description` and
//! `websiteUrl` only when truthy; `icons = server.icons ?? [sunpeak's 64x64 PNG as a data URI]`;
//! `instructions` only when truthy. Other fields of `server` are ignored.

use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::dist::PackageInfo;
use crate::js::{display, truthy};

/// sunpeak's favicon: a 64x64 PNG (1061 bytes), served at `/favicon.png` and `/favicon.ico`
/// and used as the default server icon.
pub const FAVICON_PNG: &[u8] = include_bytes!("../assets/favicon.png");

/// [`FAVICON_PNG`] as a `data:image/png;base64,...` URI.
pub fn favicon_data_uri() -> &'static str {
    static URI: OnceLock<String> = OnceLock::new();
    URI.get_or_init(|| {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(FAVICON_PNG)
        )
    })
}

/// `serverInfo` and `instructions` of the `initialize` result.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerIdentity {
    /// The `serverInfo` object (`name`, `version`, `title?`, `description?`, `websiteUrl?`,
    /// `icons`).
    pub server_info: Value,
    /// The top-level `instructions`, when set.
    pub instructions: Option<Value>,
}

impl ServerIdentity {
    /// Builds the identity from the `server` export (as JSON; `None` when there is no server
    /// entry or it has no `server` export) and `package.json`.
    pub fn new(server: Option<&Value>, package: &PackageInfo) -> Self {
        let empty = Map::new();
        let server = server.and_then(Value::as_object).unwrap_or(&empty);
        let present = |key: &str| server.get(key).filter(|v| !v.is_null()).cloned();
        let if_truthy = |key: &str| server.get(key).filter(|v| truthy(v)).cloned();

        let mut info = Map::new();
        let name = present("name")
            .or_else(|| package.name.clone().map(Value::String))
            .unwrap_or_else(|| json!("sunpeak-app"));
        let version = present("version")
            .or_else(|| package.version.clone().map(Value::String))
            .unwrap_or_else(|| json!("0.1.0"));
        info.insert("name".into(), name);
        info.insert("version".into(), version);
        for key in ["title", "description", "websiteUrl"] {
            if let Some(value) = if_truthy(key) {
                info.insert(key.into(), value);
            }
        }
        let icons = present("icons").unwrap_or_else(
            || json!([{"src": favicon_data_uri(), "mimeType": "image/png", "sizes": ["64x64"]}]),
        );
        info.insert("icons".into(), icons);
        ServerIdentity {
            server_info: Value::Object(info),
            instructions: if_truthy("instructions"),
        }
    }

    /// The server name as text (for the `Starting <name> v<version>` line).
    pub fn name(&self) -> String {
        display(&self.server_info["name"])
    }

    /// The server version as text.
    pub fn version(&self) -> String {
        display(&self.server_info["version"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: Option<&str>, version: Option<&str>) -> PackageInfo {
        PackageInfo {
            name: name.map(String::from),
            version: version.map(String::from),
        }
    }

    #[test]
    fn favicon_is_sunpeaks_png() {
        assert_eq!(FAVICON_PNG.len(), 1061);
        assert!(FAVICON_PNG.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(favicon_data_uri().starts_with("data:image/png;base64,iVBORw0KGgo"));
    }

    #[test]
    fn template_identity() {
        // The template: `server = {version: '1.0.0', description: 'A sunpeak MCP app'}`.
        let server = json!({"version": "1.0.0", "description": "A sunpeak MCP app"});
        let id = ServerIdentity::new(Some(&server), &pkg(Some("sunpeak-app"), Some("0.1.0")));
        assert_eq!(
            id.server_info,
            json!({
                "name": "sunpeak-app",
                "version": "1.0.0",
                "description": "A sunpeak MCP app",
                "icons": [{"src": favicon_data_uri(), "mimeType": "image/png", "sizes": ["64x64"]}]
            })
        );
        assert_eq!(id.instructions, None);
        assert_eq!(id.name(), "sunpeak-app");
        assert_eq!(id.version(), "1.0.0");
    }

    #[test]
    fn defaults_without_anything() {
        let id = ServerIdentity::new(None, &pkg(None, None));
        assert_eq!(id.name(), "sunpeak-app");
        assert_eq!(id.version(), "0.1.0");
    }

    #[test]
    fn all_fields_and_falsy_ones() {
        let server = json!({
            "name": "n", "version": "2", "title": "T", "description": "",
            "websiteUrl": "https://x.example", "icons": [{"src": "https://x.example/i.png", "theme": "dark"}],
            "instructions": "Call a before b.", "other": 1
        });
        let id = ServerIdentity::new(Some(&server), &pkg(Some("pkg"), Some("9")));
        assert_eq!(
            serde_json::to_string(&id.server_info).unwrap(),
            r#"{"name":"n","version":"2","title":"T","websiteUrl":"https://x.example","icons":[{"src":"https://x.example/i.png","theme":"dark"}]}"#
        );
        assert_eq!(id.instructions, Some(json!("Call a before b.")));
    }
}
