//! [`ApiError`]: a request the orders API refuses, and the answer it gets.

use serde_json::{Map, Value, json};

use crate::BackendError;

/// A refused request: its HTTP status, a stable code for programs, the request field at
/// fault when there is one, and a message that says what to send instead.
///
/// Answered as `{"error": code, "field": field, "message": message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// What kind of refusal, e.g. `invalid_request`.
    pub code: &'static str,
    /// The field of the request at fault, as a path such as `lines[0].quantity`.
    pub field: Option<String>,
    /// What is wrong, and what to do.
    pub message: String,
}

impl ApiError {
    /// 400: `field` of the request is invalid.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: "invalid_request",
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// 404: no such resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: 404,
            code: "not_found",
            field: None,
            message: message.into(),
        }
    }

    /// 405: the path exists, the method does not.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self {
            status: 405,
            code: "method_not_allowed",
            field: None,
            message: message.into(),
        }
    }

    /// 409: the request conflicts with the state of the shop (`code` says how).
    pub fn conflict(code: &'static str, field: Option<String>, message: impl Into<String>) -> Self {
        Self {
            status: 409,
            code,
            field,
            message: message.into(),
        }
    }

    /// 503: a backend failed; nothing was done and the request can be sent again.
    pub fn unavailable(error: &BackendError) -> Self {
        tracing::error!(%error, "request refused: a backend failed");
        Self {
            status: 503,
            code: "unavailable",
            field: None,
            message: format!("{error}; nothing was done, send the request again"),
        }
    }

    /// The JSON body of the answer.
    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("error".into(), json!(self.code));
        if let Some(field) = &self.field {
            body.insert("field".into(), json!(field));
        }
        body.insert("message".into(), json!(self.message));
        Value::Object(body)
    }
}
