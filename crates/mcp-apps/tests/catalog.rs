//! The MCP Apps rules of the catalog, on data shaped like the sunpeak template.

use mcp_apps::{AppTool, Catalog, DistResource, HostClient};
use serde_json::{Value, json};

fn resource(name: &str, meta: Option<Value>) -> DistResource {
    DistResource {
        dir: name.into(),
        name: name.into(),
        uri: format!("ui://{name}-abc12345"),
        title: Some(format!("{name} title")),
        description: Some(format!("{name} widget")),
        meta,
        html: format!("<!DOCTYPE html><html><body>{name} \"quoted\" \u{2028}</body></html>"),
    }
}

fn tool(name: &str, config: Value) -> AppTool {
    AppTool {
        name: name.into(),
        config,
        input_schema: Some(raw(
            r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"q":{"type":"string"}},"required":["q"]}"#,
        )),
        output_schema: None,
    }
}

fn raw(json: &str) -> Box<serde_json::value::RawValue> {
    serde_json::value::RawValue::from_string(json.to_string()).unwrap()
}

fn parse(json: impl Into<mcp_transport::Payload>) -> Value {
    serde_json::from_slice(&json.into().to_bytes()).expect("catalog output is JSON")
}

#[test]
fn ui_tool_gets_all_three_link_keys_in_sdk_order() {
    let resources = [resource("albums", None)];
    let tools = [tool(
        "show-albums",
        json!({"resource": "albums", "title": "Show Albums", "description": "Show photo albums",
               "annotations": {"readOnlyHint": true},
               "_meta": {"ui": {"visibility": ["model", "app"]}}}),
    )];
    let catalog = Catalog::new(&tools, &resources, None);
    let text = String::from_utf8(catalog.tools_list().bytes().to_vec()).unwrap();
    let listed = parse(catalog.tools_list());
    let t = &listed["tools"][0];
    assert_eq!(
        t["_meta"],
        json!({"ui": {"resourceUri": "ui://albums-abc12345", "visibility": ["model", "app"]},
               "ui/resourceUri": "ui://albums-abc12345",
               "openai/outputTemplate": "ui://albums-abc12345"})
    );
    assert_eq!(t["execution"], json!({"taskSupport": "forbidden"}));
    // Key order as the TypeScript SDK writes it.
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "name",
            "title",
            "description",
            "inputSchema",
            "annotations",
            "execution",
            "_meta"
        ]
    );
    // resourceUri is the first key of ui.
    assert!(text.contains(r#""_meta":{"ui":{"resourceUri":"ui://albums-abc12345","visibility""#));
}

#[test]
fn user_resource_uri_cannot_override_the_real_one() {
    let resources = [resource("albums", None)];
    let tools = [tool(
        "t",
        json!({"resource": "albums",
               "_meta": {"ui": {"resourceUri": "ui://elsewhere"}, "ui/resourceUri": "ui://elsewhere"}}),
    )];
    let listed = parse(Catalog::new(&tools, &resources, None).tools_list());
    let meta = &listed["tools"][0]["_meta"];
    assert_eq!(meta["ui"]["resourceUri"], "ui://albums-abc12345");
    assert_eq!(meta["ui/resourceUri"], "ui://albums-abc12345");
    assert_eq!(meta["openai/outputTemplate"], "ui://albums-abc12345");
}

#[test]
fn schemas_are_copied_verbatim() {
    let mut t = tool("t", json!({}));
    // Spacing and number spelling as Node wrote them survive.
    t.input_schema = Some(raw(
        r#"{"type":"object","properties":{"n":{"maximum":1e+21}}}"#,
    ));
    let catalog = Catalog::new(&[t], &[], None);
    let text = String::from_utf8(catalog.tools_list().bytes().to_vec()).unwrap();
    assert!(
        text.contains(r#""inputSchema":{"type":"object","properties":{"n":{"maximum":1e+21}}}"#),
        "{text}"
    );
}

#[test]
fn plain_tool_keeps_title_and_meta_and_gets_no_link_keys() {
    let tools = [
        tool(
            "review",
            json!({"title": "Confirm Review", "_meta": {"ui": {"visibility": ["model", "app"]}}}),
        ),
        AppTool {
            name: "noschema".into(),
            config: json!({"description": "d"}),
            input_schema: None,
            output_schema: Some(raw(r#"{"type":"object"}"#)),
        },
    ];
    let listed = parse(Catalog::new(&tools, &[], None).tools_list());
    let review = &listed["tools"][0];
    assert_eq!(review["title"], "Confirm Review");
    assert_eq!(
        review["_meta"],
        json!({"ui": {"visibility": ["model", "app"]}})
    );
    let plain = &listed["tools"][1];
    assert_eq!(
        plain["inputSchema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(plain["outputSchema"], json!({"type": "object"}));
    assert!(plain.get("_meta").is_none());
    assert!(plain.get("title").is_none());
}

#[test]
fn missing_resource_skips_the_tool_with_sunpeaks_warning() {
    let tools = [
        tool("broken", json!({"resource": "nope"})),
        tool("ok", json!({})),
    ];
    let catalog = Catalog::new(&tools, &[], None);
    assert_eq!(
        catalog.warnings(),
        ["Resource \"nope\" not found for tool \"broken\". Skipping."]
    );
    assert!(!catalog.has_tool("broken"));
    assert!(catalog.has_tool("ok"));
    assert_eq!(catalog.tool_count(), 1);
    assert_eq!(
        parse(catalog.tools_list())["tools"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn every_resource_is_listed_referenced_first() {
    let resources = [
        resource("albums", None),
        resource("orphan", None),
        resource(
            "review",
            Some(json!({"ui": {"csp": {"resourceDomains": ["https://cdn.example"]}}})),
        ),
    ];
    let tools = [
        tool("review-diff", json!({"resource": "review"})),
        tool("review-post", json!({"resource": "review"})),
        tool("show-albums", json!({"resource": "albums"})),
    ];
    let catalog = Catalog::new(&tools, &resources, None);
    let names: Vec<&str> = catalog.resource_names().collect();
    assert_eq!(names, ["review", "albums", "orphan"]);
    let list = parse(catalog.resources_list(None));
    assert_eq!(
        list["resources"][0],
        json!({"uri": "ui://review-abc12345", "name": "review", "title": "review title",
               "mimeType": "text/html;profile=mcp-app", "description": "review widget",
               "_meta": {"ui": {"csp": {"resourceDomains": ["https://cdn.example"]}}}})
    );
    assert!(list["resources"][2].get("_meta").is_none());
}

#[test]
fn read_returns_the_html_and_the_listing_meta() {
    let meta = json!({"ui": {"prefersBorder": true}});
    let resources = [resource("albums", Some(meta.clone()))];
    let catalog = Catalog::new(&[], &resources, None);
    let read = parse(catalog.read_resource("ui://albums-abc12345", None).unwrap());
    assert_eq!(
        read,
        json!({"contents": [{"uri": "ui://albums-abc12345", "mimeType": "text/html;profile=mcp-app",
                             "text": resources[0].html, "_meta": meta}]})
    );
    assert!(catalog.read_resource("ui://other", None).is_none());
    // Same bytes for every host when nothing is host-specific.
    assert_eq!(
        catalog
            .read_resource("ui://albums-abc12345", Some(HostClient::Claude))
            .map(|j| j.to_bytes()),
        catalog
            .read_resource("ui://albums-abc12345", None)
            .map(|j| j.to_bytes())
    );
}

#[test]
fn per_host_domains_in_listing_and_read() {
    let meta = json!({"ui": {"domain": {"openai-mcp": "chat.example", "default": "all.example"}, "csp": {}}});
    let resources = [resource("map", Some(meta)), resource("plain", None)];
    let url = "https://example.com/mcp";
    let catalog = Catalog::new(&[], &resources, Some(url));
    let openai = parse(catalog.resources_list(Some(HostClient::OpenAi)));
    assert_eq!(
        openai["resources"][0]["_meta"],
        json!({"ui": {"csp": {}, "domain": "chat.example"}})
    );
    assert_eq!(
        openai["resources"][1]["_meta"],
        json!({"ui": {"domain": "example-com.oaiusercontent.com"}})
    );
    let claude = parse(catalog.resources_list(Some(HostClient::Claude)));
    assert_eq!(
        claude["resources"][0]["_meta"],
        json!({"ui": {"csp": {}, "domain": "all.example"}})
    );
    assert_eq!(
        claude["resources"][1]["_meta"],
        json!({"ui": {"domain": "c3d80a4ed901ee05b21755a88273b4a4.claudemcpcontent.com"}})
    );
    let unknown = parse(catalog.resources_list(None));
    assert_eq!(unknown["resources"][1]["_meta"], json!({}));

    for (client, expected) in [
        (Some(HostClient::OpenAi), "chat.example"),
        (Some(HostClient::Claude), "all.example"),
        (None, "all.example"),
    ] {
        let read = parse(catalog.read_resource("ui://map-abc12345", client).unwrap());
        assert_eq!(read["contents"][0]["_meta"]["ui"]["domain"], expected);
        assert_eq!(read["contents"][0]["text"], resources[0].html);
    }
}

#[test]
fn uri_lookup_is_normalized_like_sunpeak() {
    let mut res = resource("albums", None);
    res.uri = "ui://albums-abc12345/path with space".into();
    let catalog = Catalog::new(&[], &[res], None);
    assert!(
        catalog
            .read_resource("ui://albums-abc12345/path%20with%20space", None)
            .is_some()
    );
    assert!(
        catalog
            .read_resource("ui://albums-abc12345/path with space", None)
            .is_some()
    );
}
