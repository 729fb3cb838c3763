//! The API Gateway HTTP API side of the orders API (payload format 2.0): which route a
//! request is for, its body, and the answer.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use serde_json::{Value, json};

use super::ApiError;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `POST /orders`.
    PlaceOrder,
    /// `POST /orders/{id}/cancel`.
    CancelOrder(String),
}

/// The route of `request`, or the 404 or 405 it gets.
///
/// Routes are read from the method and path rather than the route key, so the function
/// works behind an API with explicit routes, a `$default` route or a `{proxy+}` route alike.
pub fn route(request: &ApiGatewayV2httpRequest) -> Result<Route, ApiError> {
    let path = path_of(request);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let route = match segments.as_slice() {
        ["orders"] => Route::PlaceOrder,
        ["orders", id, "cancel"] if !id.is_empty() => Route::CancelOrder(
            // API Gateway hands over path parameters decoded; prefer its reading.
            request
                .path_parameters
                .get("id")
                .cloned()
                .unwrap_or_else(|| (*id).to_owned()),
        ),
        _ => {
            return Err(ApiError::not_found(format!(
                "no route for `{path}`: the orders API serves POST /orders and POST \
                 /orders/{{id}}/cancel"
            )));
        }
    };
    let method = &request.request_context.http.method;
    if method != Method::POST {
        return Err(ApiError::method_not_allowed(format!(
            "`{path}` takes POST, not {method}"
        )));
    }
    Ok(route)
}

/// The request path without the stage: API Gateway keeps a named stage (`/prod/orders`) in
/// the path, but not the `$default` stage.
fn path_of(request: &ApiGatewayV2httpRequest) -> String {
    let context = &request.request_context;
    let path = context
        .http
        .path
        .as_deref()
        .or(request.raw_path.as_deref())
        .unwrap_or("/");
    match context.stage.as_deref() {
        Some(stage) if stage != "$default" && !stage.is_empty() => {
            let prefix = format!("/{stage}");
            match path.strip_prefix(&prefix) {
                Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.to_owned(),
                _ => path.to_owned(),
            }
        }
        _ => path.to_owned(),
    }
}

/// The request body as text, decoded when API Gateway base64-encoded it; `None` when there
/// is none.
pub fn body_text(request: &ApiGatewayV2httpRequest) -> Result<Option<String>, ApiError> {
    let Some(body) = request.body.as_deref().filter(|b| !b.is_empty()) else {
        return Ok(None);
    };
    if !request.is_base64_encoded {
        return Ok(Some(body.to_owned()));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| ApiError::invalid("body", "the body is not valid base64"))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| ApiError::invalid("body", "the body must be UTF-8 JSON"))
}

/// A JSON answer with `status`, and a `Location` header when one is given.
pub fn json_response(
    status: u16,
    body: &Value,
    location: Option<&str>,
) -> ApiGatewayV2httpResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response.headers = headers;
    response.body = Some(Body::Text(body.to_string()));
    response
}

/// The answer to a refused request.
pub fn error_response(error: &ApiError) -> ApiGatewayV2httpResponse {
    json_response(error.status, &error.body(), None)
}

/// A request as API Gateway's HTTP API sends it (payload format 2.0, `$default` stage), for
/// tests and the local demo.
pub fn api_request(method: &str, path: &str, body: Option<&str>) -> ApiGatewayV2httpRequest {
    let payload = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "shop",
            },
            "requestId": uuid::Uuid::now_v7().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": body,
        "isBase64Encoded": false,
    });
    serde_json::from_value(payload).expect("an HTTP API request of payload format 2.0")
}
