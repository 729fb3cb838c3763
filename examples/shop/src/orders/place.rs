//! `POST /orders`: validate, reserve synchronously, then publish `OrderPlaced`.
//!
//! Only what the customer must know before the answer is on the critical path: the request
//! is valid, every item is in stock and held for the order. Confirmation email, analytics and
//! the inventory's own bookkeeping follow asynchronously from the published event. The event
//! goes out after the reservation, so no consumer ever hears of an order the API refused.

use shop_events::{Money, OrderLine, OrderPlaced, sources};

use super::body::{self, OrderRequest};
use super::{ApiError, FIRST_SEQUENCE};
use crate::order_book::{Order, OrderStatus};
use crate::stock::StockError;
use crate::{Catalog, Services, sink};

/// Places the order the body describes and answers it as stored.
pub async fn place(body: Option<&str>, shop: &Services) -> Result<Order, ApiError> {
    let request = body::parse(body)?;
    let (lines, total) = price(&request, &shop.catalog)?;
    let order_id = format!("order-{}", uuid::Uuid::now_v7());

    shop.stock
        .reserve(&order_id, &lines)
        .await
        .map_err(|error| refused_reservation(error, &request))?;

    let order = Order {
        order_id: order_id.clone(),
        customer_id: request.customer_id,
        lines,
        total,
        status: OrderStatus::Placed,
        sequence: FIRST_SEQUENCE,
    };
    if let Err(error) = shop.orders.put(order.clone()).await {
        undo(shop, &order_id, false).await;
        return Err(ApiError::unavailable(&error));
    }

    let placed = OrderPlaced {
        order_id: order.order_id.clone(),
        customer_id: order.customer_id.clone(),
        lines: order.lines.clone(),
        total: order.total.clone(),
    };
    let envelope = sink::envelope(sources::ORDERS, placed).with_sequence(FIRST_SEQUENCE);
    if let Err(error) = sink::publish(shop.events.as_ref(), envelope).await {
        // Nobody will hear of this order: give its stock back rather than hold it forever.
        undo(shop, &order_id, true).await;
        return Err(ApiError::unavailable(&error));
    }
    tracing::info!(order_id = order.order_id.as_str(), "order placed");
    Ok(order)
}

/// Prices every line from the catalog, in one currency, and totals them.
fn price(request: &OrderRequest, catalog: &Catalog) -> Result<(Vec<OrderLine>, Money), ApiError> {
    let mut currency = request.currency.clone();
    let mut total: i64 = 0;
    let mut lines = Vec::with_capacity(request.lines.len());
    for (i, line) in request.lines.iter().enumerate() {
        let field = format!("lines[{i}].sku");
        let price = catalog.price(&line.sku).ok_or_else(|| {
            ApiError::invalid(&field, format!("the shop does not sell `{}`", line.sku))
        })?;
        match &currency {
            None => currency = Some(price.currency.clone()),
            Some(expected) if *expected != price.currency => {
                return Err(match &request.currency {
                    Some(asked) => ApiError::invalid(
                        "currency",
                        format!(
                            "`{}` is priced in {}, not {asked}: send \"{}\" or leave `currency` out",
                            line.sku, price.currency, price.currency
                        ),
                    ),
                    None => ApiError::invalid(
                        field,
                        format!(
                            "`{}` is priced in {}, the earlier lines in {expected}: order it \
                             separately",
                            line.sku, price.currency
                        ),
                    ),
                });
            }
            Some(_) => {}
        }
        total = price
            .amount_cents
            .checked_mul(i64::from(line.quantity))
            .and_then(|amount| total.checked_add(amount))
            .ok_or_else(|| ApiError::invalid("lines", "the order's total is too large"))?;
        lines.push(OrderLine {
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price: Some(price),
        });
    }
    let currency = currency.expect("an order has at least one line");
    Ok((
        lines,
        Money {
            amount_cents: total,
            currency,
        },
    ))
}

/// The answer to a reservation the stock book refused: 409 naming the line short of stock.
fn refused_reservation(error: StockError, request: &OrderRequest) -> ApiError {
    match error {
        StockError::OutOfStock { ref sku, .. } => {
            let line = request.lines.iter().position(|l| l.sku == *sku);
            ApiError::conflict(
                "out_of_stock",
                line.map(|i| format!("lines[{i}].quantity")),
                error.to_string(),
            )
        }
        StockError::Unavailable(error) => ApiError::unavailable(&error),
    }
}

/// Takes back what was done for an order that could not be completed. Failures are logged:
/// the customer already gets an error, and a leaked hold is for a person to see.
async fn undo(shop: &Services, order_id: &str, stored: bool) {
    if stored && let Err(error) = shop.orders.remove(order_id).await {
        tracing::error!(order_id, %error, "could not forget an order that was not published");
    }
    if let Err(error) = shop.stock.release(order_id).await {
        tracing::error!(order_id, %error, "could not release the stock of a refused order");
    }
}
