//! One outgoing message: its body, message attributes, FIFO ids, and its size as AWS counts
//! it; and the rules for the text AWS accepts.

use std::borrow::Cow;

/// A message attribute with a string value (`String` or `Number` data type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attribute {
    pub(crate) name: String,
    pub(crate) data_type: &'static str,
    pub(crate) value: String,
}

impl Attribute {
    pub(crate) fn string(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            data_type: "String",
            value: value.into(),
        }
    }

    pub(crate) fn number(name: impl Into<String>, value: impl ToString) -> Self {
        Self {
            name: name.into(),
            data_type: "Number",
            value: value.to_string(),
        }
    }
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// What the message is, for receipts and errors: the event id (or, for a dead letter, the
    /// original message id).
    pub(crate) id: String,
    pub(crate) body: String,
    pub(crate) attributes: Vec<Attribute>,
    /// The FIFO message group id.
    pub(crate) group_id: Option<String>,
    /// The FIFO deduplication id.
    pub(crate) deduplication_id: Option<String>,
}

impl Message {
    /// The size AWS holds against the limit: the body's UTF-8 bytes plus, for every message
    /// attribute, the bytes of its name, its data type and its value. The FIFO ids do not
    /// count.
    pub(crate) fn size(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|a| a.name.len() + a.data_type.len() + a.value.len())
                .sum::<usize>()
    }
}

/// Whether SQS accepts `c` in a message: `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
/// #x10000-#x10FFFF`, the characters of XML 1.0. (Rust strings hold no surrogates.)
fn is_accepted(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{FFFD}' | '\u{10000}'..)
}

/// Makes a JSON text acceptable to SQS and SNS without changing what it means.
///
/// serde_json escapes the control characters but writes the noncharacters U+FFFE and U+FFFF
/// as they are, and AWS refuses a message holding them. In JSON they can only stand inside
/// strings, where `\uFFFE` is the same string, so escaping them keeps the document equal.
pub(crate) fn json_for_aws(json: String) -> String {
    if json.chars().all(is_accepted) {
        return json;
    }
    let mut escaped = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_accepted(c) {
            escaped.push(c);
        } else {
            escaped.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
    }
    escaped
}

/// Replaces the characters AWS refuses with U+FFFD, for free text such as a rejection
/// reason in an attribute value.
pub(crate) fn text_for_aws(text: &str) -> Cow<'_, str> {
    if text.chars().all(is_accepted) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.chars()
                .map(|c| if is_accepted(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// Whether `value` is a valid FIFO message group or deduplication id: 1 to 128 characters,
/// each an ASCII letter, digit or punctuation mark.
pub(crate) fn is_fifo_id(value: &str) -> bool {
    (1..=128).contains(&value.len()) && value.chars().all(|c| c.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_counts_body_and_every_attribute_part() {
        let message = Message {
            id: "e".into(),
            body: "é{}".into(), // 4 bytes
            attributes: vec![
                Attribute::string("type", "shop.order.placed"),
                Attribute::number("dataversion", 12),
            ],
            group_id: Some("order-1".into()),
            deduplication_id: Some("e".into()),
        };
        assert_eq!(message.size(), 4 + (4 + 6 + 17) + (11 + 6 + 2));
    }

    #[test]
    fn noncharacters_are_escaped_and_the_json_stays_equal() {
        let value = serde_json::json!({"note": "a\u{FFFE}b\u{FFFF}c ✓", "n": 1});
        let raw = serde_json::to_string(&value).unwrap();
        assert!(raw.contains('\u{FFFE}'));
        let safe = json_for_aws(raw);
        assert!(safe.chars().all(is_accepted));
        assert!(safe.contains("\\ufffe") && safe.contains("\\uffff"));
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, value);

        let plain = r#"{"a":"naïve ✓ 𝄞"}"#.to_owned();
        assert_eq!(json_for_aws(plain.clone()), plain);
    }

    #[test]
    fn free_text_loses_only_what_aws_refuses() {
        assert_eq!(text_for_aws("ok\ttab ✓"), "ok\ttab ✓");
        assert_eq!(text_for_aws("a\u{0}b\u{FFFF}"), "a\u{FFFD}b\u{FFFD}");
    }

    #[test]
    fn fifo_ids() {
        assert!(is_fifo_id("order-42"));
        assert!(is_fifo_id("a!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~z"));
        assert!(is_fifo_id(&"x".repeat(128)));
        assert!(!is_fifo_id(&"x".repeat(129)));
        assert!(!is_fifo_id(""));
        assert!(!is_fifo_id("order 42"));
        assert!(!is_fifo_id("ordér"));
    }
}
