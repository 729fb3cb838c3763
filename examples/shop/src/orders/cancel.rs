//! `POST /orders/{id}/cancel`: cancel a placed order and publish `OrderCancelled` with the
//! order's next sequence. The stock is released asynchronously, by inventory.

use serde_json::Value;
use shop_events::{CancelReason, OrderCancelled, sources};

use super::ApiError;
use crate::order_book::{CancelError, Order, OrderStatus};
use crate::{Services, sink};

/// The reasons a client may give, as written in the body's `reason`.
const REASONS: [(&str, CancelReason); 3] = [
    ("customer_request", CancelReason::CustomerRequest),
    ("payment_declined", CancelReason::PaymentDeclined),
    ("out_of_stock", CancelReason::OutOfStock),
];

/// What a cancellation body that is not a JSON object is told.
pub const CANCEL_BODY_SHAPE: &str =
    "the body must be empty or a JSON object such as {\"reason\": \"customer_request\"}";

/// Cancels `order_id` and answers the order as it is now.
pub async fn cancel(
    order_id: &str,
    body: Option<&str>,
    shop: &Services,
) -> Result<Order, ApiError> {
    let reason = reason(body)?;
    let order = shop
        .orders
        .cancel(order_id)
        .await
        .map_err(|error| match error {
            CancelError::NotFound(_) => ApiError::not_found(error.to_string()),
            CancelError::AlreadyCancelled(_) => {
                ApiError::conflict("already_cancelled", None, error.to_string())
            }
            CancelError::Unavailable(error) => ApiError::unavailable(&error),
        })?;

    let cancelled = OrderCancelled {
        order_id: order.order_id.clone(),
        reason,
        lines: order.lines.clone(),
    };
    let envelope = sink::envelope(sources::ORDERS, cancelled).with_sequence(order.sequence);
    if let Err(error) = sink::publish(shop.events.as_ref(), envelope).await {
        // Put the order back as it was, so that the client's retry can cancel it.
        let before = Order {
            status: OrderStatus::Placed,
            sequence: order.sequence - 1,
            ..order
        };
        if let Err(error) = shop.orders.put(before).await {
            tracing::error!(order_id, %error, "could not reopen an order whose cancellation was not published");
        }
        return Err(ApiError::unavailable(&error));
    }
    tracing::info!(order_id, "order cancelled");
    Ok(order)
}

/// The reason in the optional body `{"reason": "..."}`; the customer's request by default.
fn reason(body: Option<&str>) -> Result<CancelReason, ApiError> {
    let Some(body) = body else {
        return Ok(CancelReason::CustomerRequest);
    };
    let allowed = REASONS
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let object = match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(object)) => object,
        _ => {
            return Err(ApiError::invalid("body", CANCEL_BODY_SHAPE));
        }
    };
    match object.get("reason") {
        None | Some(Value::Null) => Ok(CancelReason::CustomerRequest),
        Some(value) => value
            .as_str()
            .and_then(|text| REASONS.iter().find(|(name, _)| *name == text))
            .map(|(_, reason)| reason.clone())
            .ok_or_else(|| {
                ApiError::invalid(
                    "reason",
                    format!("`reason` must be one of {allowed}, not {value}"),
                )
            }),
    }
}
