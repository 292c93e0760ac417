//! Pre-serialized, paginated list results with opaque cursors.

use mcp_proto::McpError;
use serde::Serialize;
use serde_json::Value;

use crate::payload::{Payload, StaticJson};

/// The pages of one list (`tools`, `resources`, `resourceTemplates`, `prompts`), serialized
/// once when the server is built.
#[derive(Debug, Clone)]
pub(crate) struct Pages {
    pages: Vec<StaticJson>,
}

/// A cursor names the offset of a page; it is opaque to clients.
fn cursor_for(offset: usize) -> String {
    format!("c{:x}", offset ^ 0x5eed)
}

fn offset_of(cursor: &str) -> Option<usize> {
    let hex = cursor.strip_prefix('c')?;
    usize::from_str_radix(hex, 16).ok().map(|n| n ^ 0x5eed)
}

impl Pages {
    /// Serializes `items` under `key`, `page_size` items per page (0: one page).
    pub(crate) fn build<T: Serialize>(key: &str, items: &[T], page_size: usize) -> Self {
        let size = if page_size == 0 {
            items.len().max(1)
        } else {
            page_size
        };
        let mut pages = Vec::new();
        let mut offset = 0;
        loop {
            let end = (offset + size).min(items.len());
            let mut obj = serde_json::Map::new();
            obj.insert(
                key.to_owned(),
                serde_json::to_value(&items[offset..end]).unwrap_or(Value::Array(Vec::new())),
            );
            if end < items.len() {
                obj.insert("nextCursor".into(), Value::from(cursor_for(end)));
            }
            pages.push(
                StaticJson::from_serialize(&obj)
                    .unwrap_or_else(|_| StaticJson::new(b"{}".to_vec())),
            );
            if end >= items.len() {
                break;
            }
            offset = end;
        }
        Self { pages }
    }

    /// The page a cursor points at; a bad cursor is `-32602`.
    pub(crate) fn page(&self, cursor: Option<&str>, page_size: usize) -> Result<Payload, McpError> {
        let index = match cursor {
            None => 0,
            Some(c) => {
                let size = page_size.max(1);
                let offset = offset_of(c).filter(|o| *o > 0 && o % size == 0);
                match offset.map(|o| o / size) {
                    Some(i) if i < self.pages.len() && page_size > 0 => i,
                    _ => return Err(McpError::invalid_params("Invalid cursor")),
                }
            }
        };
        Ok(self.pages[index].clone().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paginates() {
        let items: Vec<u32> = (0..5).collect();
        let p = Pages::build("xs", &items, 2);
        let first = p.page(None, 2).unwrap().to_value().unwrap();
        assert_eq!(first["xs"], serde_json::json!([0, 1]));
        let c = first["nextCursor"].as_str().unwrap().to_owned();
        let second = p.page(Some(&c), 2).unwrap().to_value().unwrap();
        assert_eq!(second["xs"], serde_json::json!([2, 3]));
        let c = second["nextCursor"].as_str().unwrap().to_owned();
        let third = p.page(Some(&c), 2).unwrap().to_value().unwrap();
        assert_eq!(third["xs"], serde_json::json!([4]));
        assert!(third.get("nextCursor").is_none());
        for bad in [
            "",
            "zzz",
            "c",
            "cffffffffffffffffffff",
            &cursor_for(1),
            &cursor_for(6),
        ] {
            assert_eq!(p.page(Some(bad), 2).unwrap_err().code.0, -32602, "{bad}");
        }
        let one = Pages::build("xs", &items, 0);
        assert_eq!(
            one.page(None, 0).unwrap().to_value().unwrap()["xs"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert!(one.page(Some("c0"), 0).is_err());
        let empty = Pages::build::<u32>("xs", &[], 0);
        assert_eq!(
            empty.page(None, 0).unwrap().to_value().unwrap(),
            serde_json::json!({"xs": []})
        );
    }
}
