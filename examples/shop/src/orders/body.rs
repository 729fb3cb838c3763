//! The body of `POST /orders`, read and checked field by field.
//!
//! ```json
//! {"customer_id": "customer-7", "lines": [{"sku": "mug-blue", "quantity": 2}], "currency": "EUR"}
//! ```
//!
//! The body is read as JSON values rather than straight into a struct so that every refusal
//! names the field at fault (`lines[1].quantity`) and says what it must be, which serde's
//! messages do not do in terms a client of the API understands.

use serde_json::{Map, Value};

use super::ApiError;

/// The most lines an order may have.
pub const MAX_LINES: usize = 50;
/// The most units of one line.
pub const MAX_QUANTITY: u32 = 1000;
/// The longest customer id.
pub const MAX_CUSTOMER_ID: usize = 128;

/// What a body that is not a JSON object is told.
pub const BODY_SHAPE: &str = "the body must be a JSON object such as {\"customer_id\": \
    \"customer-7\", \"lines\": [{\"sku\": \"mug-blue\", \"quantity\": 1}]}";

/// A well-formed order request, not yet checked against the catalog or the stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// The customer placing the order.
    pub customer_id: String,
    /// What they want, each SKU once.
    pub lines: Vec<RequestedLine>,
    /// The currency the customer expects to pay in, if they said.
    pub currency: Option<String>,
}

/// One line of an order request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLine {
    /// The SKU.
    pub sku: String,
    /// How many, from 1 to [`MAX_QUANTITY`].
    pub quantity: u32,
}

/// Reads the body of `POST /orders`.
pub fn parse(body: Option<&str>) -> Result<OrderRequest, ApiError> {
    let value: Value = body
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(|| ApiError::invalid("body", BODY_SHAPE))?;
    let Value::Object(object) = value else {
        return Err(ApiError::invalid("body", BODY_SHAPE));
    };
    Ok(OrderRequest {
        customer_id: customer_id(&object)?,
        lines: lines(&object)?,
        currency: currency(&object)?,
    })
}

fn customer_id(object: &Map<String, Value>) -> Result<String, ApiError> {
    match object.get("customer_id") {
        None | Some(Value::Null) => Err(ApiError::invalid(
            "customer_id",
            "`customer_id` is required: the id of the customer placing the order",
        )),
        Some(Value::String(id)) if !id.trim().is_empty() && id.len() <= MAX_CUSTOMER_ID => {
            Ok(id.clone())
        }
        Some(_) => Err(ApiError::invalid(
            "customer_id",
            format!("`customer_id` must be a non-empty string of at most {MAX_CUSTOMER_ID} bytes"),
        )),
    }
}

fn lines(object: &Map<String, Value>) -> Result<Vec<RequestedLine>, ApiError> {
    let items = match object.get("lines") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                "lines",
                "`lines` is required: a list of {\"sku\", \"quantity\"}",
            ));
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(ApiError::invalid(
                "lines",
                "`lines` must be a list of {\"sku\", \"quantity\"}",
            ));
        }
    };
    if items.is_empty() || items.len() > MAX_LINES {
        return Err(ApiError::invalid(
            "lines",
            format!(
                "`lines` must hold from 1 to {MAX_LINES} lines, not {}",
                items.len()
            ),
        ));
    }
    let mut lines: Vec<RequestedLine> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let line = line(i, item)?;
        if let Some(first) = lines.iter().position(|l| l.sku == line.sku) {
            return Err(ApiError::invalid(
                format!("lines[{i}].sku"),
                format!(
                    "`lines[{i}].sku` repeats `{}` of `lines[{first}]`: put its whole quantity on \
                     one line",
                    line.sku
                ),
            ));
        }
        lines.push(line);
    }
    Ok(lines)
}

fn line(i: usize, item: &Value) -> Result<RequestedLine, ApiError> {
    let Value::Object(line) = item else {
        return Err(ApiError::invalid(
            format!("lines[{i}]"),
            format!("`lines[{i}]` must be an object {{\"sku\", \"quantity\"}}"),
        ));
    };
    let sku = match line.get("sku") {
        Some(Value::String(sku)) if !sku.trim().is_empty() => sku.clone(),
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                format!("lines[{i}].sku"),
                format!("`lines[{i}].sku` is required: the SKU of the item"),
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid(
                format!("lines[{i}].sku"),
                format!("`lines[{i}].sku` must be a non-empty string"),
            ));
        }
    };
    let quantity = match line.get("quantity") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid(
                format!("lines[{i}].quantity"),
                format!("`lines[{i}].quantity` is required: how many units"),
            ));
        }
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=MAX_QUANTITY).contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("lines[{i}].quantity"),
                    format!(
                        "`lines[{i}].quantity` must be a whole number from 1 to {MAX_QUANTITY}, \
                         not {value}"
                    ),
                )
            })?,
    };
    Ok(RequestedLine { sku, quantity })
}

fn currency(object: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match object.get("currency") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(code))
            if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) =>
        {
            Ok(Some(code.clone()))
        }
        Some(other) => Err(ApiError::invalid(
            "currency",
            format!(
                "`currency` must be an ISO 4217 code of three capital letters such as \"EUR\", \
                 not {other}; or leave it out"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_body_is_read() {
        let request = parse(Some(
            r#"{"customer_id":"c-1","lines":[{"sku":"a","quantity":2},{"sku":"b","quantity":1}],"currency":"EUR"}"#,
        ))
        .unwrap();
        assert_eq!(
            request,
            OrderRequest {
                customer_id: "c-1".into(),
                lines: vec![
                    RequestedLine {
                        sku: "a".into(),
                        quantity: 2
                    },
                    RequestedLine {
                        sku: "b".into(),
                        quantity: 1
                    },
                ],
                currency: Some("EUR".into()),
            }
        );
    }

    #[test]
    fn each_refusal_names_its_field() {
        let ok_line = r#"{"sku":"a","quantity":1}"#;
        let cases: Vec<(String, &str, String)> = vec![
            ("".into(), "body", BODY_SHAPE.into()),
            ("[1]".into(), "body", BODY_SHAPE.into()),
            ("{nope".into(), "body", BODY_SHAPE.into()),
            (
                format!(r#"{{"lines":[{ok_line}]}}"#),
                "customer_id",
                "`customer_id` is required: the id of the customer placing the order".into(),
            ),
            (
                format!(r#"{{"customer_id":"  ","lines":[{ok_line}]}}"#),
                "customer_id",
                "`customer_id` must be a non-empty string of at most 128 bytes".into(),
            ),
            (
                r#"{"customer_id":"c"}"#.into(),
                "lines",
                "`lines` is required: a list of {\"sku\", \"quantity\"}".into(),
            ),
            (
                r#"{"customer_id":"c","lines":{}}"#.into(),
                "lines",
                "`lines` must be a list of {\"sku\", \"quantity\"}".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[]}"#.into(),
                "lines",
                "`lines` must hold from 1 to 50 lines, not 0".into(),
            ),
            (
                format!(r#"{{"customer_id":"c","lines":[{ok_line},"x"]}}"#),
                "lines[1]",
                "`lines[1]` must be an object {\"sku\", \"quantity\"}".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[{"quantity":1}]}"#.into(),
                "lines[0].sku",
                "`lines[0].sku` is required: the SKU of the item".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[{"sku":7,"quantity":1}]}"#.into(),
                "lines[0].sku",
                "`lines[0].sku` must be a non-empty string".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[{"sku":"a"}]}"#.into(),
                "lines[0].quantity",
                "`lines[0].quantity` is required: how many units".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[{"sku":"a","quantity":0}]}"#.into(),
                "lines[0].quantity",
                "`lines[0].quantity` must be a whole number from 1 to 1000, not 0".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[{"sku":"a","quantity":1.5}]}"#.into(),
                "lines[0].quantity",
                "`lines[0].quantity` must be a whole number from 1 to 1000, not 1.5".into(),
            ),
            (
                r#"{"customer_id":"c","lines":[{"sku":"a","quantity":"2"}]}"#.into(),
                "lines[0].quantity",
                "`lines[0].quantity` must be a whole number from 1 to 1000, not \"2\"".into(),
            ),
            (
                format!(r#"{{"customer_id":"c","lines":[{ok_line},{ok_line}]}}"#),
                "lines[1].sku",
                "`lines[1].sku` repeats `a` of `lines[0]`: put its whole quantity on one line"
                    .into(),
            ),
            (
                format!(r#"{{"customer_id":"c","lines":[{ok_line}],"currency":"eur"}}"#),
                "currency",
                "`currency` must be an ISO 4217 code of three capital letters such as \"EUR\", \
                 not \"eur\"; or leave it out"
                    .into(),
            ),
        ];
        for (body, field, message) in cases {
            let error =
                parse(Some(&body).filter(|b| !b.is_empty()).map(String::as_str)).expect_err(&body);
            assert_eq!(error.status, 400, "{body}");
            assert_eq!(error.field.as_deref(), Some(field), "{body}");
            assert_eq!(error.message, message, "{body}");
        }
    }

    #[test]
    fn too_many_lines_are_refused() {
        let lines: Vec<String> = (0..=MAX_LINES)
            .map(|i| format!(r#"{{"sku":"s{i}","quantity":1}}"#))
            .collect();
        let body = format!(r#"{{"customer_id":"c","lines":[{}]}}"#, lines.join(","));
        let error = parse(Some(&body)).unwrap_err();
        assert_eq!(
            error.message,
            "`lines` must hold from 1 to 50 lines, not 51"
        );
    }
}
