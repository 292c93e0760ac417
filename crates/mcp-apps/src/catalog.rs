//! The MCP Apps catalog: what `tools/list`, `resources/list` and `resources/read` answer,
//! computed once at start and held pre-serialized.
//!
//! Rules (sunpeak's, with the fixes of the product contract):
//! - A tool whose `resource` names a loaded resource is a UI tool: its `_meta.ui.resourceUri`,
//!   the legacy `_meta["ui/resourceUri"]` and `_meta["openai/outputTemplate"]` all hold the
//!   resource's URI (a user-written `ui.resourceUri` cannot point elsewhere). A tool whose
//!   `resource` is not found is skipped with a warning, as sunpeak does.
//! - Every tool keeps its `title` (sunpeak drops it for tools without a UI).
//! - Every resource is listed, referenced or not: first those referenced by tools, in tool
//!   order (sunpeak's order), then the others in directory order.
//! - Resources carry `mimeType: text/html;profile=mcp-app`; the `_meta` of the listing and of
//!   the read content are the same, resolved per host ([`crate::domain`]).
//!
//! Everything a request can ask for is serialized here, once: three variants (unknown host,
//! Claude, ChatGPT) of the resource listing, and each resource's HTML already JSON-escaped, so
//! serving a read is copying bytes. The HTML is held once even when the read results differ
//! per host (only their small `_meta` part does), and so is its compressed form.

use std::collections::HashMap;

use bytes::Bytes;
use mcp_transport::{Payload, StaticJson};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::client::HostClient;
use crate::dist::DistResource;
use crate::domain::final_resource_meta;
use crate::js::truthy;

/// The MIME type of MCP Apps HTML resources.
pub const RESOURCE_MIME_TYPE: &str = "text/html;profile=mcp-app";
/// The deprecated flat tool `_meta` key that links a tool to its UI resource.
pub const RESOURCE_URI_META_KEY: &str = "ui/resourceUri";
/// The OpenAI Apps SDK tool `_meta` key that links a tool to its UI template.
pub const OPENAI_OUTPUT_TEMPLATE_KEY: &str = "openai/outputTemplate";

/// A tool as loaded from `dist/tools/<name>.js`.
#[derive(Debug, Clone)]
pub struct AppTool {
    /// The tool name (the file name without `.js`).
    pub name: String,
    /// The `tool` export as JSON (`resource`, `title`, `description`, `annotations`, `_meta`).
    pub config: Value,
    /// The `schema` export converted to JSON Schema, as serialized by Node (kept byte for
    /// byte); `None` means `{"type":"object","properties":{}}`.
    pub input_schema: Option<Box<RawValue>>,
    /// The `outputSchema` export converted to JSON Schema.
    pub output_schema: Option<Box<RawValue>>,
}

/// The host variants resources are resolved for.
const SLOTS: [Option<HostClient>; 3] = [None, Some(HostClient::Claude), Some(HostClient::OpenAi)];

fn slot(client: Option<HostClient>) -> usize {
    match client {
        None => 0,
        Some(HostClient::Claude) => 1,
        Some(HostClient::OpenAi) => 2,
    }
}

/// Counter: `resources/read` answers with a listed resource, by `mcp_resource_uri`.
pub const RESOURCE_READS: &str = "sunpeak_resource_reads_total";

/// One listed resource and its pre-serialized read results.
#[derive(Debug)]
struct CatalogResource {
    name: String,
    /// The URI as listed, shared so that a metric label costs no allocation.
    uri: std::sync::Arc<str>,
    /// The read result, whole when every host gets the same one (the usual case without
    /// `--server-url`), else the shared parts of the per-host results.
    read: ReadResult,
}

#[derive(Debug)]
enum ReadResult {
    /// One result for every host.
    Whole(StaticJson),
    /// `prefix` + `html` + `suffix[host]`: the hosts share the escaped HTML and its compressed
    /// form, and differ only in the small `_meta` suffix.
    PerHost {
        /// `{"contents":[{"uri":…,"mimeType":…,"text":`.
        prefix: Bytes,
        /// The HTML as a JSON string literal.
        html: StaticJson,
        /// `,"_meta":…}]}` or `}]}`, per host variant.
        suffix: [Bytes; 3],
    },
}

/// The tools and resources a server exposes, pre-serialized.
#[derive(Debug)]
pub struct Catalog {
    tools_list: StaticJson,
    /// Registered tool name -> the URI of its resource, if it is a UI tool.
    tools: HashMap<String, Option<String>>,
    tool_count: usize,
    resources: Vec<CatalogResource>,
    /// Normalized URI -> index in `resources`.
    by_uri: HashMap<String, usize>,
    resources_list: [StaticJson; 3],
    warnings: Vec<String>,
}

impl Catalog {
    /// Builds the catalog. `tools` in registration order (sunpeak: byte order of the file
    /// names), `resources` in directory order. `server_url` is the public URL of `/mcp`, for
    /// the default sandbox domains.
    pub fn new(tools: &[AppTool], resources: &[DistResource], server_url: Option<&str>) -> Self {
        let by_name: HashMap<&str, &DistResource> =
            resources.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut warnings = Vec::new();
        let mut listed_tools = Vec::new();
        let mut registered = HashMap::new();
        let mut order: Vec<&DistResource> = Vec::new();

        for tool in tools {
            if registered.contains_key(&tool.name) {
                warnings.push(format!("Duplicate tool \"{}\". Skipping.", tool.name));
                continue;
            }
            let resource_name = tool.config.get("resource").filter(|v| truthy(v));
            let resource = match resource_name {
                None => None,
                Some(Value::String(name)) if by_name.contains_key(name.as_str()) => {
                    by_name.get(name.as_str()).copied()
                }
                Some(name) => {
                    let name = name.as_str().map_or_else(|| name.to_string(), String::from);
                    warnings.push(format!(
                        "Resource \"{name}\" not found for tool \"{}\". Skipping.",
                        tool.name
                    ));
                    continue;
                }
            };
            if let Some(res) = resource
                && !order.iter().any(|r| r.uri == res.uri)
            {
                order.push(res);
            }
            listed_tools.push(tool_json(tool, resource.map(|r| r.uri.as_str())));
            registered.insert(tool.name.clone(), resource.map(|r| r.uri.clone()));
        }
        for res in resources {
            if !order.iter().any(|r| r.uri == res.uri) {
                order.push(res);
            } else if !order.iter().any(|r| std::ptr::eq(*r, res)) {
                warnings.push(format!(
                    "Resource \"{}\" has the same URI as another resource ({}). Skipping.",
                    res.name, res.uri
                ));
            }
        }

        let mut listings: [Vec<Value>; 3] = Default::default();
        let mut catalog_resources = Vec::with_capacity(order.len());
        let mut by_uri = HashMap::new();
        for res in order {
            let metas = SLOTS.map(|client| {
                final_resource_meta(res.meta.as_ref(), client.map(HostClient::name), server_url)
            });
            for (i, meta) in metas.iter().enumerate() {
                listings[i].push(listing_json(res, meta.as_ref()));
            }
            // The URI as written (the fast path), and normalized as sunpeak looks it up.
            by_uri.insert(res.uri.clone(), catalog_resources.len());
            by_uri
                .entry(normalize_uri(&res.uri))
                .or_insert(catalog_resources.len());
            catalog_resources.push(CatalogResource::new(res, &metas));
        }
        let resources_list =
            listings.map(|list| StaticJson::new(to_bytes(&json!({ "resources": list }))));

        Catalog {
            tools_list: StaticJson::new(
                format!("{{\"tools\":[{}]}}", listed_tools.join(",")).into_bytes(),
            ),
            tool_count: registered.len(),
            tools: registered,
            resources: catalog_resources,
            by_uri,
            resources_list,
            warnings,
        }
    }

    /// Warnings found while building (tools skipped because their resource is missing).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The `tools/list` result, serialized.
    pub fn tools_list(&self) -> StaticJson {
        self.tools_list.clone()
    }

    /// Number of registered tools.
    pub fn tool_count(&self) -> usize {
        self.tool_count
    }

    /// Number of listed resources.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// Names of the listed resources, in listing order.
    pub fn resource_names(&self) -> impl Iterator<Item = &str> {
        self.resources.iter().map(|r| r.name.as_str())
    }

    /// Names of the registered tools (in no particular order).
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    /// Whether `name` is a registered tool (a tool skipped for a missing resource is not).
    pub fn has_tool(&self, name: &str) -> bool {
        self.tools.contains_key(name)
    }

    /// The `resources/list` result for a host, serialized.
    pub fn resources_list(&self, client: Option<HostClient>) -> StaticJson {
        self.resources_list[slot(client)].clone()
    }

    /// The `resources/read` result for `uri` and a host, serialized; `None` for an unknown URI.
    pub fn read_resource(&self, uri: &str, client: Option<HostClient>) -> Option<Payload> {
        let index = match self.by_uri.get(uri) {
            Some(index) => *index,
            None => *self.by_uri.get(&normalize_uri(uri))?,
        };
        let resource = &self.resources[index];
        // Labelled with the URI as listed (not as asked for), so only listed URIs are labels.
        metrics::counter!(RESOURCE_READS, "mcp_resource_uri" => std::sync::Arc::clone(&resource.uri))
            .increment(1);
        Some(match &resource.read {
            ReadResult::Whole(whole) => Payload::from(whole.clone()),
            ReadResult::PerHost {
                prefix,
                html,
                suffix,
            } => Payload::spliced(prefix.clone(), html.clone(), suffix[slot(client)].clone()),
        })
    }
}

impl CatalogResource {
    fn new(res: &DistResource, metas: &[Option<Value>; 3]) -> Self {
        let mut prefix = String::from("{\"contents\":[{\"uri\":");
        prefix.push_str(&json_string(&res.uri));
        prefix.push_str(",\"mimeType\":");
        prefix.push_str(&json_string(RESOURCE_MIME_TYPE));
        prefix.push_str(",\"text\":");
        let suffix = |meta: &Option<Value>| match meta {
            Some(meta) => Bytes::from(format!(",\"_meta\":{}}}]}}", compact(meta))),
            None => Bytes::from_static(b"}]}"),
        };
        let [a, b, c] = [suffix(&metas[0]), suffix(&metas[1]), suffix(&metas[2])];
        let html = json_string(&res.html);
        let read = if a == b && b == c {
            // One host-independent result: hold it whole, and only once.
            let mut whole = Vec::with_capacity(prefix.len() + html.len() + a.len());
            whole.extend_from_slice(prefix.as_bytes());
            whole.extend_from_slice(html.as_bytes());
            whole.extend_from_slice(&a);
            ReadResult::Whole(StaticJson::new(whole))
        } else {
            ReadResult::PerHost {
                prefix: Bytes::from(prefix),
                html: StaticJson::new(html),
                suffix: [a, b, c],
            }
        };
        CatalogResource {
            name: res.name.clone(),
            uri: std::sync::Arc::from(res.uri.as_str()),
            read,
        }
    }
}

/// One `tools/list` entry, serialized. Key order as the TypeScript SDK writes it: `name,
/// title, description, inputSchema, annotations, execution, _meta, outputSchema`. The schemas
/// are copied verbatim.
fn tool_json(tool: &AppTool, resource_uri: Option<&str>) -> String {
    let config = tool.config.as_object();
    let field = |key: &str| config.and_then(|c| c.get(key)).filter(|v| !v.is_null());
    let mut out = String::from("{\"name\":");
    out.push_str(&json_string(&tool.name));
    for key in ["title", "description"] {
        if let Some(value) = field(key) {
            push_member(&mut out, key, &compact(value));
        }
    }
    match &tool.input_schema {
        Some(schema) => push_member(&mut out, "inputSchema", schema.get()),
        None => push_member(
            &mut out,
            "inputSchema",
            r#"{"type":"object","properties":{}}"#,
        ),
    }
    if let Some(annotations) = field("annotations") {
        push_member(&mut out, "annotations", &compact(annotations));
    }
    push_member(&mut out, "execution", r#"{"taskSupport":"forbidden"}"#);
    let meta = match resource_uri {
        Some(uri) => Some(ui_tool_meta(field("_meta"), uri)),
        None => field("_meta").cloned(),
    };
    if let Some(meta) = meta {
        push_member(&mut out, "_meta", &compact(&meta));
    }
    if let Some(schema) = &tool.output_schema {
        push_member(&mut out, "outputSchema", schema.get());
    }
    out.push('}');
    out
}

fn push_member(out: &mut String, key: &str, json: &str) {
    out.push(',');
    out.push_str(&json_string(key));
    out.push(':');
    out.push_str(json);
}

/// A UI tool's `_meta`: the user's keys, with `ui.resourceUri` first in `ui` and the legacy
/// and OpenAI keys all pointing at the real resource URI.
fn ui_tool_meta(user_meta: Option<&Value>, uri: &str) -> Value {
    let mut meta = user_meta
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut ui = Map::new();
    ui.insert("resourceUri".into(), Value::String(uri.to_string()));
    if let Some(user_ui) = meta.get("ui").and_then(Value::as_object) {
        for (key, value) in user_ui {
            if key != "resourceUri" {
                ui.insert(key.clone(), value.clone());
            }
        }
    }
    meta.insert("ui".into(), Value::Object(ui));
    meta.insert(RESOURCE_URI_META_KEY.into(), Value::String(uri.to_string()));
    meta.insert(
        OPENAI_OUTPUT_TEMPLATE_KEY.into(),
        Value::String(uri.to_string()),
    );
    Value::Object(meta)
}

/// One `resources/list` entry: `uri, name, title?, mimeType, description?, _meta?`.
fn listing_json(res: &DistResource, meta: Option<&Value>) -> Value {
    let mut out = Map::new();
    out.insert("uri".into(), Value::String(res.uri.clone()));
    out.insert("name".into(), Value::String(res.name.clone()));
    if let Some(title) = &res.title {
        out.insert("title".into(), Value::String(title.clone()));
    }
    out.insert("mimeType".into(), Value::String(RESOURCE_MIME_TYPE.into()));
    if let Some(description) = &res.description {
        out.insert("description".into(), Value::String(description.clone()));
    }
    if let Some(meta) = meta {
        out.insert("_meta".into(), meta.clone());
    }
    Value::Object(out)
}

/// URIs are looked up as sunpeak does (`new URL(uri).toString()`), falling back to the text.
fn normalize_uri(uri: &str) -> String {
    url::Url::parse(uri).map_or_else(|_| uri.to_string(), |u| u.to_string())
}

fn json_string(s: &str) -> String {
    // Serializing a string cannot fail.
    serde_json::to_string(s).unwrap_or_default()
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}
