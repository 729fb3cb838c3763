//! The orders API: a Lambda function behind an API Gateway HTTP API (payload format 2.0).
//!
//! | request | answer |
//! |---|---|
//! | `POST /orders` `{"customer_id", "lines": [{"sku", "quantity"}], "currency"?}` | 201 `{"order_id", "status": "placed", "lines", "total"}`, `Location: /orders/{id}`; publishes `OrderPlaced` (sequence 1) |
//! | `POST /orders/{id}/cancel` `{"reason"?}` | 200 `{"order_id", "status": "cancelled"}`; publishes `OrderCancelled` (the order's next sequence) |
//!
//! Refusals are JSON `{"error", "field"?, "message"}`: 400 for an invalid request, naming the
//! field; 404 for an unknown order or path; 405 for a method other than POST; 409 when an
//! item is out of stock (nothing is reserved or published) or the order is already
//! cancelled; 503 when a backend failed (what was done is undone: send the request again).
//!
//! It takes `aws_lambda_events`' HTTP API types over `lambda_runtime` rather than
//! `lambda_http`: the function serves one payload format, which those types describe exactly,
//! and `lambda_http` would add request conversions for every API Gateway flavour, ALB and
//! function URLs that this function never receives.

pub mod body;
mod cancel;
mod error;
mod gateway;
mod place;

pub use error::ApiError;
pub use gateway::{Route, api_request, route};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::json;

use crate::Services;
use gateway::{body_text, error_response, json_response};

/// The sequence of an order's first event: `OrderPlaced`.
pub const FIRST_SEQUENCE: u64 = 1;

/// Answers one request of the orders API with the services `shop`.
pub async fn handle(request: ApiGatewayV2httpRequest, shop: &Services) -> ApiGatewayV2httpResponse {
    match answer(&request, shop).await {
        Ok(response) => response,
        Err(error) => error_response(&error),
    }
}

async fn answer(
    request: &ApiGatewayV2httpRequest,
    shop: &Services,
) -> Result<ApiGatewayV2httpResponse, ApiError> {
    let route = route(request)?;
    let body = body_text(request)?;
    match route {
        Route::PlaceOrder => {
            let order = place::place(body.as_deref(), shop).await?;
            let location = format!("/orders/{}", order.order_id);
            let answer = json!({
                "order_id": order.order_id,
                "status": "placed",
                "lines": order.lines,
                "total": order.total,
            });
            Ok(json_response(201, &answer, Some(&location)))
        }
        Route::CancelOrder(order_id) => {
            let order = cancel::cancel(&order_id, body.as_deref(), shop).await?;
            let answer = json!({"order_id": order.order_id, "status": "cancelled"});
            Ok(json_response(200, &answer, None))
        }
    }
}

/// Runs the orders API as a Lambda function with the services the environment describes
/// ([`crate::Services::from_env`]), on a current-thread runtime, as tidings runs the
/// consumers.
pub fn run() -> Result<(), lambda_runtime::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            tidings::lambda::init_telemetry();
            serve(crate::Services::from_env()?).await
        })
}

/// Serves the orders API with `shop`, inside an existing Tokio runtime.
pub async fn serve(shop: crate::Services) -> Result<(), lambda_runtime::Error> {
    let shop = &shop;
    lambda_runtime::run(service_fn(
        |event: LambdaEvent<ApiGatewayV2httpRequest>| async move {
            Ok::<_, lambda_runtime::Error>(handle(event.payload, shop).await)
        },
    ))
    .await
}

#[cfg(test)]
mod tests;
